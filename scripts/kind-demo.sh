#!/usr/bin/env bash
# The Kubernetes walkthrough (docs/kubernetes.md) as one command, on a kind cluster:
#
#   scripts/kind-demo.sh [--dry-run] up
#   scripts/kind-demo.sh [--dry-run] mesh linkerd|istio|istio-ambient
#   scripts/kind-demo.sh [--dry-run] check
#   scripts/kind-demo.sh [--dry-run] down
#
# Every command this script runs to set something up is a command block of docs/kubernetes.md,
# marked there with <!-- kind-demo.sh step: NAME -->; the blocks live below as step texts, and
# --dry-run prints them under "### step NAME" without running anything. The manifest tests
# (tests/manifests/test/kind-demo.test.js) compare the two character for character, so the doc
# and the script cannot drift. What the script adds around the steps: the checks that make a
# rerun safe (a step whose work is done is skipped and says so), one mesh per cluster, and
# `check`, which asserts the walkthrough's claims against the live cluster.
#
# Needs docker (with compose), kind, kubectl and curl; never sudo (the hosts-file line is
# printed, not written: check sends Host: servicemesh.demo itself). Runs on bash 3.2 (macOS's
# /bin/bash) as well as newer; without coreutils' `timeout` (stock macOS) the steps simply run
# unbounded (STEP_TIMEOUT_S applies only where `timeout` exists).
set -euo pipefail

# The versions docs/kubernetes.md names (a manifest test compares them with the doc and with
# .github/workflows/kind.yaml). Linkerd 2.20 is the edge release edge-26.6.3 (tag version-2.20).
KIND_VERSION=v0.32.0
CLOUD_PROVIDER_KIND_VERSION=v0.11.1
LINKERD_VERSION=edge-26.6.3
ISTIO_VERSION=1.30.3
GATEWAY_API_VERSION=v1.5.1

CLUSTER=servicemesh
NS=servicemesh-demo
HOST=servicemesh.demo
MESHES="linkerd istio istio-ambient"
# The request each mesh's tracing step makes (docs/kubernetes.md, "Tracing: one page, one
# trace"); check proves it answers. Under Istio, /home/api/playlists would go through
# videos-web's forwarder to playlists-api, which admits only the entry.
TRACE_PATH_LINKERD=/home/api/playlists
TRACE_PATH_ISTIO=/api/playlists
# How long one step may take before the script gives up and says which step it was.
STEP_TIMEOUT_S=${STEP_TIMEOUT_S:-1200}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The CLIs the steps download (linkerd/install, istio/download), for later steps and check.
PATH="$HOME/.linkerd2/bin:/tmp/istio-$ISTIO_VERSION/bin:$PATH"
export PATH

usage() {
    cat >&2 <<EOF
usage: scripts/kind-demo.sh [--dry-run] up | mesh linkerd|istio|istio-ambient | check | down
  up      create the kind cluster "$CLUSTER", build and load the images, start (or find)
          cloud-provider-kind $CLOUD_PROVIDER_KIND_VERSION, deploy the catalog, wait for the entry,
          print the hosts-file line
  mesh    install that mesh ($LINKERD_VERSION = Linkerd 2.20, Istio $ISTIO_VERSION, Gateway API
          $GATEWAY_API_VERSION experimental CRDs) and apply its overlay; one mesh per cluster
  check   assert the walkthrough's claims on the live cluster (the mesh it finds, or none)
  down    stop the container cloud-provider-kind (it then removes its Envoy containers), delete
          the cluster and any Envoy container of it left behind, remove cloud-provider-kind
  --dry-run  print the steps (the doc's command blocks) and checks; run and change nothing
EOF
}

die() {
    echo "kind-demo: $*" >&2
    exit 1
}
say() { echo "==> $*"; }

# ---------------------------------------------------------------------------------------------
# Step texts: verbatim the marked command blocks of docs/kubernetes.md.
step_text() {
    case "$1" in
    up/cluster)
        cat <<'EOF'
kind create cluster --config deploy/kubernetes/kind/cluster.yaml   # cluster "servicemesh"
kubectl cluster-info --context kind-servicemesh
EOF
        ;;
    up/images)
        cat <<'EOF'
docker compose build                  # or: docker build --target videos-api -t servicemesh/videos-api:1.0.0 . (and so on)
kind load docker-image --name servicemesh \
  servicemesh/videos-api:1.0.0 servicemesh/playlists-api:1.0.0 servicemesh/videos-web:1.0.0
EOF
        ;;
    up/cloud-provider-kind)
        cat <<'EOF'
docker run -d --name cloud-provider-kind --restart unless-stopped --network host \
  -v /var/run/docker.sock:/var/run/docker.sock \
  registry.k8s.io/cloud-provider-kind/cloud-controller-manager:v0.11.1
EOF
        ;;
    up/gatewayclass)
        cat <<'EOF'
for i in $(seq 60); do kubectl get gatewayclass cloud-provider-kind >/dev/null 2>&1 && break; sleep 3; done
kubectl get gatewayclass cloud-provider-kind   # fails if cloud-provider-kind made none within 3 minutes: docker logs cloud-provider-kind
EOF
        ;;
    up/catalog)
        cat <<'EOF'
kubectl apply -k deploy/kubernetes/base
kubectl -n servicemesh-demo rollout status deploy --timeout=180s
kubectl -n servicemesh-demo get pods,svc,gateway,httproute
EOF
        ;;
    up/entry)
        cat <<'EOF'
kubectl -n servicemesh-demo wait --for=condition=Programmed gateway/servicemesh --timeout=120s
GATEWAY_IP=$(kubectl -n servicemesh-demo get gateway servicemesh -o jsonpath='{.status.addresses[0].value}')
EOF
        ;;
    mesh/gateway-api-crds)
        cat <<'EOF'
kubectl apply --server-side --force-conflicts -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/experimental-install.yaml
kubectl get crd httproutes.gateway.networking.k8s.io -o jsonpath='{.metadata.annotations.gateway\.networking\.k8s\.io/channel}{"\n"}'   # experimental
EOF
        ;;
    linkerd/install)
        cat <<'EOF'
curl --proto '=https' --tlsv1.2 -sSfL https://run.linkerd.io/install-edge | LINKERD2_VERSION=edge-26.6.3 sh
export PATH=$HOME/.linkerd2/bin:$PATH
linkerd check --pre
linkerd install --crds | kubectl apply -f -
linkerd install | kubectl apply -f -
linkerd check
linkerd viz install | kubectl apply -f -
linkerd viz check
EOF
        ;;
    linkerd/mesh)
        cat <<'EOF'
kubectl label ns servicemesh-demo pod-security.kubernetes.io/enforce=privileged --overwrite
kubectl annotate ns servicemesh-demo linkerd.io/inject=enabled config.linkerd.io/proxy-enable-native-sidecar=true
kubectl -n servicemesh-demo rollout restart deploy
kubectl -n servicemesh-demo rollout status deploy --timeout=180s
linkerd -n servicemesh-demo check --proxy
EOF
        ;;
    linkerd/overlay)
        cat <<'EOF'
kubectl apply -k deploy/kubernetes/overlays/linkerd
kubectl -n servicemesh-demo rollout status deploy --timeout=180s
EOF
        ;;
    istio/download)
        cat <<'EOF'
(cd /tmp && curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -)
export PATH=/tmp/istio-1.30.3/bin:$PATH
EOF
        ;;
    istio/install)
        cat <<'EOF'
istioctl install -f deploy/kubernetes/istio/istio-operator.yaml -y
kubectl apply -f /tmp/istio-1.30.3/samples/addons/prometheus.yaml -f /tmp/istio-1.30.3/samples/addons/kiali.yaml
kubectl apply -f /tmp/istio-1.30.3/samples/addons/jaeger.yaml
EOF
        ;;
    istio/mesh)
        cat <<'EOF'
kubectl -n servicemesh-demo delete gateways.gateway.networking.k8s.io servicemesh --ignore-not-found   # Istio creates it anew
kubectl apply -k deploy/kubernetes/overlays/istio
kubectl -n servicemesh-demo rollout restart deploy
kubectl -n servicemesh-demo rollout status deploy --timeout=180s
kubectl -n servicemesh-demo wait --for=condition=Programmed gateways.gateway.networking.k8s.io/servicemesh --timeout=180s
EOF
        ;;
    istio-ambient/leave-istio)
        cat <<'EOF'
kubectl delete -k deploy/kubernetes/overlays/istio --ignore-not-found
kubectl delete -k deploy/kubernetes/overlays/istio-api --ignore-not-found
istioctl uninstall --purge -y
EOF
        ;;
    istio-ambient/install)
        cat <<'EOF'
istioctl install -f deploy/kubernetes/istio/istio-ambient.yaml -y
kubectl -n istio-system rollout status ds/ztunnel --timeout=180s
kubectl -n istio-system rollout status ds/istio-cni-node --timeout=180s
kubectl apply -f /tmp/istio-1.30.3/samples/addons/prometheus.yaml   # the Prometheus of docs/metrics.md
EOF
        ;;
    istio-ambient/mesh)
        cat <<'EOF'
kubectl -n servicemesh-demo delete gateways.gateway.networking.k8s.io servicemesh --ignore-not-found   # Istio creates it anew
kubectl apply -k deploy/kubernetes/overlays/istio-ambient
kubectl -n servicemesh-demo rollout status deploy --timeout=180s
kubectl -n servicemesh-demo wait --for=condition=Programmed gateways.gateway.networking.k8s.io/servicemesh gateways.gateway.networking.k8s.io/waypoint --timeout=180s
EOF
        ;;
    down/stop-cloud-provider-kind)
        cat <<'EOF'
docker stop --time 60 cloud-provider-kind   # SIGTERM: it deletes its Envoy containers, then exits
EOF
        ;;
    down/cluster)
        cat <<'EOF'
kind delete cluster --name servicemesh
for c in $(docker ps -aq --filter label=io.x-k8s.cloud-provider-kind.cluster=servicemesh); do docker rm -f "$c"; done
EOF
        ;;
    down/remove-cloud-provider-kind)
        cat <<'EOF'
docker rm cloud-provider-kind
EOF
        ;;
    *) die "internal: no step $1" ;;
    esac
}

DRY_RUN=0

# Runs one step (or, with --dry-run, prints it). $2, when given, is why a run skips it.
step() {
    local name=$1 skip_reason=${2:-}
    if ((DRY_RUN)); then
        echo "### step $name"
        step_text "$name"
        echo
        return
    fi
    if [[ -n $skip_reason ]]; then
        say "$name: skipped, $skip_reason"
        return
    fi
    say "$name"
    local text
    text=$(step_text "$name")
    # From the repository root, as the doc's commands are written; bounded so that a hung
    # download or controller names its step instead of holding a CI runner for hours.
    # ${bounded[@]+...}: an empty array is "unbound" under set -u in bash before 4.4 (macOS: 3.2).
    local -a bounded=()
    if command -v timeout >/dev/null; then bounded=(timeout "$STEP_TIMEOUT_S"); fi
    if ! (cd "$ROOT" && ${bounded[@]+"${bounded[@]}"} bash -euo pipefail -c "$text"); then
        die "step $name failed (docs/kubernetes.md, the block marked '$name'); see the output above"
    fi
}

need() {
    ((DRY_RUN)) && return 0
    local missing=()
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (docs/kubernetes.md, step 0)"
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

use_cluster() {
    cluster_exists || die "no kind cluster \"$CLUSTER\": run scripts/kind-demo.sh up first"
    kubectl config use-context "kind-$CLUSTER" >/dev/null
}

# Which mesh the cluster has: linkerd, istio, istio-ambient or none (from the control planes).
installed_mesh() {
    if kubectl get namespace linkerd >/dev/null 2>&1; then
        echo linkerd
    elif kubectl -n istio-system get daemonset ztunnel >/dev/null 2>&1; then
        echo istio-ambient
    elif kubectl -n istio-system get deployment istiod >/dev/null 2>&1; then
        echo istio
    else
        echo none
    fi
}

# Which mesh the catalog's namespace is in (it can differ from installed_mesh mid-way).
namespace_mesh() {
    local labels
    labels=$(kubectl get namespace "$NS" -o jsonpath='{.metadata.labels}{.metadata.annotations}' 2>/dev/null || true)
    case "$labels" in
    *'"linkerd.io/inject":"enabled"'*) echo linkerd ;;
    *'"istio.io/dataplane-mode":"ambient"'*) echo istio-ambient ;;
    *'"istio-injection":"enabled"'*) echo istio ;;
    *) echo none ;;
    esac
}

# Where the entry answers from this machine: cloud-provider-kind's Gateway address without a
# mesh and with Linkerd; 127.0.0.1:80 (kind's port mapping to node port 30080) with Istio; with
# the istio-api overlay (applied by hand, docs/kubernetes.md step 9: no Gateway API Gateway, no
# node port) the address cloud-provider-kind gives the LoadBalancer istio-ingressgateway.
entry_address() {
    case "$(namespace_mesh)" in
    istio | istio-ambient)
        if kubectl -n "$NS" get gateways.gateway.networking.k8s.io servicemesh >/dev/null 2>&1; then
            echo 127.0.0.1
        else
            kubectl -n istio-system get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null || true
        fi
        ;;
    *) kubectl -n "$NS" get gateways.gateway.networking.k8s.io servicemesh -o jsonpath='{.status.addresses[0].value}' ;;
    esac
}

# ---------------------------------------------------------------------------------------------
cmd_up() {
    need docker kind kubectl curl
    if ! ((DRY_RUN)); then
        local v
        v=$(kind version 2>/dev/null | awk '{print $2}')
        [[ $v == "$KIND_VERSION" ]] || echo "kind-demo: warning: kind $v, the walkthrough was checked with $KIND_VERSION" >&2
    fi
    local exists="" cpk="" meshed=""
    if ! ((DRY_RUN)); then
        cluster_exists && exists="kind cluster \"$CLUSTER\" exists"
        if [[ -n $exists ]]; then kind export kubeconfig --name "$CLUSTER" >/dev/null; fi
    fi
    step up/cluster "$exists"
    step up/images
    if ! ((DRY_RUN)); then
        if docker ps --format '{{.Names}}' | grep -qx cloud-provider-kind; then
            cpk="the container cloud-provider-kind is running"
        elif pgrep -x cloud-provider-kind >/dev/null 2>&1; then
            cpk="a cloud-provider-kind process is running"
        elif docker ps -a --format '{{.Names}}' | grep -qx cloud-provider-kind; then
            docker start cloud-provider-kind >/dev/null
            cpk="started the stopped container cloud-provider-kind"
        elif [[ $(uname -s) != Linux ]]; then
            die "cloud-provider-kind is not running: on $(uname -s) start it yourself in another terminal (root on macOS): docs/kubernetes.md, step 3"
        fi
        local m
        m=$(namespace_mesh)
        [[ $m == none ]] || meshed="the namespace is meshed ($m): kept as it is"
    fi
    step up/cloud-provider-kind "$cpk"
    # The base's Gateway needs the Gateway API CRDs and the GatewayClass cloud-provider-kind
    # creates a few seconds after it starts (docs/kubernetes.md, step 4).
    step up/gatewayclass "$meshed"
    step up/catalog "$meshed"
    step up/entry "$meshed"
    ((DRY_RUN)) && return
    local ip
    ip=$(entry_address)
    [[ -n $ip ]] || die "the Gateway servicemesh has no address: is cloud-provider-kind running? (docker logs cloud-provider-kind)"
    echo
    echo "The catalog is up. For a browser, add this line to /etc/hosts (needs root: not done here):"
    echo "  $ip $HOST"
    echo "then open http://$HOST/home   (or: kubectl -n $NS port-forward svc/videos-web 8080:80)"
}

cmd_mesh() {
    local mesh=$1
    need kubectl curl
    local have="none"
    if ! ((DRY_RUN)); then
        use_cluster
        have=$(installed_mesh)
        kubectl get namespace "$NS" >/dev/null 2>&1 || die "no namespace $NS: run scripts/kind-demo.sh up first"
        case "$mesh:$have" in
        *:none | linkerd:linkerd | istio:istio | istio-ambient:istio-ambient | istio-ambient:istio) ;;
        *) die "$have is installed; one mesh per cluster: scripts/kind-demo.sh down && scripts/kind-demo.sh up, then mesh $mesh (or leave $have by hand: docs/kubernetes.md)" ;;
        esac
    fi
    step mesh/gateway-api-crds
    case "$mesh" in
    linkerd)
        local installed="" meshed=""
        if ! ((DRY_RUN)); then
            if kubectl get namespace linkerd-viz >/dev/null 2>&1 && command -v linkerd >/dev/null; then
                installed="Linkerd and viz are installed"
            fi
            [[ $(namespace_mesh) == linkerd ]] && meshed="the namespace is annotated for injection"
        fi
        step linkerd/install "$installed"
        step linkerd/mesh "$meshed"
        step linkerd/overlay
        ;;
    istio)
        local downloaded=""
        if ! ((DRY_RUN)); then [[ -x /tmp/istio-$ISTIO_VERSION/bin/istioctl ]] && downloaded="/tmp/istio-$ISTIO_VERSION is there"; fi
        step istio/download "$downloaded"
        step istio/install
        step istio/mesh
        ;;
    istio-ambient)
        local downloaded="" sidecars="no sidecar installation of Istio"
        if ! ((DRY_RUN)); then
            [[ -x /tmp/istio-$ISTIO_VERSION/bin/istioctl ]] && downloaded="/tmp/istio-$ISTIO_VERSION is there"
            [[ $have == istio ]] && sidecars=""
        else
            sidecars=""
        fi
        step istio/download "$downloaded"
        step istio-ambient/leave-istio "$sidecars"
        step istio-ambient/install
        step istio-ambient/mesh
        ;;
    esac
    ((DRY_RUN)) || say "meshed with $mesh: now scripts/kind-demo.sh check"
}

cmd_down() {
    need kind docker
    local container="" running=""
    if ! ((DRY_RUN)); then
        docker ps -a --format '{{.Names}}' | grep -qx cloud-provider-kind ||
            container="no container cloud-provider-kind (one started by hand: Ctrl-C it, which cleans up the same way)"
        docker ps --format '{{.Names}}' | grep -qx cloud-provider-kind ||
            running=${container:-"the container cloud-provider-kind is stopped"}
    fi
    # Stopped (SIGTERM) before the cluster goes: cloud-provider-kind v0.11.1 removes its Envoy
    # containers when it exits gracefully; docker rm -f (SIGKILL) would leave them running.
    step down/stop-cloud-provider-kind "$running"
    step down/cluster
    step down/remove-cloud-provider-kind "$container"
    ((DRY_RUN)) && return
    if grep -q "[[:space:]]$HOST\$" /etc/hosts 2>/dev/null; then
        echo "/etc/hosts still names $HOST; remove the line (docs/kubernetes.md, step 5):"
        echo "  sudo sed -i.bak '/[[:space:]]servicemesh\.demo\$/d' /etc/hosts"
    fi
}

# ---------------------------------------------------------------------------------------------
# check: the walkthrough's claims on the live cluster. Each claim prints "ok" or stops the
# script with what was expected and what was seen.

CHECK_FAILED=0
ok() { echo "  ok: $*"; }
fail() {
    echo "  FAILED: $*" >&2
    CHECK_FAILED=1
}

# GET http://servicemesh.demo$1 through the entry; sets STATUS, TOTAL, OMITTED, BODY.
entry_get() {
    local headers
    headers=$(mktemp)
    BODY=$(curl -sS --max-time 15 -D "$headers" --resolve "$HOST:80:$ENTRY" "http://$HOST$1" 2>&1) || true
    STATUS=$(awk 'toupper($1) ~ /^HTTP\// {s=$2} END {print s+0}' "$headers")
    TOTAL=$(awk -F': *' 'tolower($1)=="x-videos-total" {print $2+0}' "$headers")
    OMITTED=$(awk -F': *' 'tolower($1)=="x-videos-omitted" {print $2+0}' "$headers")
    rm -f "$headers"
}

# Waits (bounded) until $1 answers 200 through the entry: a fresh rollout or gateway takes a while.
wait_for_entry() {
    local path=$1 deadline=$((SECONDS + 120))
    while :; do
        entry_get "$path"
        [[ $STATUS == 200 ]] && return 0
        ((SECONDS < deadline)) || return 1
        sleep 3
    done
}

set_flaky() {
    if [[ $1 == off ]]; then
        kubectl -n "$NS" set env deploy/videos-api FLAKY- >/dev/null
    else
        kubectl -n "$NS" set env deploy/videos-api FLAKY=true >/dev/null
    fi
    kubectl -n "$NS" rollout status deploy/videos-api --timeout=180s >/dev/null ||
        die "videos-api did not roll out within 180 s after setting FLAKY"
}

# Pages of /api/playlists with FLAKY=true: sets CALLS and LEFT_OUT (videos left out).
sample_flaky() {
    local pages=$1 i
    CALLS=0 LEFT_OUT=0
    for ((i = 0; i < pages; i++)); do
        entry_get /api/playlists
        [[ $STATUS == 200 && -n $TOTAL ]] || {
            fail "/api/playlists answered $STATUS during the FLAKY sample (the answer stays 200 with videos left out)"
            return
        }
        CALLS=$((CALLS + TOTAL)) LEFT_OUT=$((LEFT_OUT + OMITTED))
    done
}

# Plaintext from a pod outside the mesh (namespace default) to videos-api: STRICT mTLS refuses it.
plaintext_refused() {
    local out
    local -a bounded=()
    if command -v timeout >/dev/null; then bounded=(timeout 180); fi
    out=$(${bounded[@]+"${bounded[@]}"} kubectl run "mtls-check-$$" -n default --rm -i --restart=Never --image=redis:7-alpine \
        --pod-running-timeout=120s -- timeout 5 wget -q -O- "http://videos-api.$NS:10010/jM36M39MA3I" 2>&1) || true
    if [[ $out == *'"title"'* ]]; then
        fail "plaintext from outside the mesh reached videos-api (STRICT mTLS should refuse it): $out"
    elif [[ $out == *wget:* ]]; then
        ok "plaintext from outside the mesh is refused (${out%%$'\n'*})"
    else
        fail "the plaintext probe pod did not run wget: $out"
    fi
}

# The traffic generator (videos-api's policy does not name it) calls videos-api: $1 = allowed|denied.
forbidden_call() {
    local out
    out=$(kubectl -n "$NS" exec deploy/traffic-generator -c traffic-generator -- \
        timeout 10 wget -q -O- http://videos-api:10010/jM36M39MA3I 2>&1) || true
    if [[ $1 == allowed ]]; then
        # Without a mesh nothing is forbidden: the same call answers, which shows the probe works.
        if [[ $out == *'"title"'* ]]; then
            ok "without a mesh the traffic generator may call videos-api (the probe for the denial works)"
        else
            fail "the traffic generator could not call videos-api without a mesh: $out"
        fi
    else
        if [[ $out == *403* ]]; then
            ok "the traffic generator's call to videos-api is denied: 403"
        else
            fail "the traffic generator's call to videos-api was not denied with 403: $out"
        fi
    fi
}

cmd_check() {
    if ((DRY_RUN)); then
        cat <<EOF
### check
# Against the mesh the namespace $NS is in (none, linkerd, istio, istio-ambient):
# - http://$HOST/home/ answers 200 with the page, /api/playlists 200 with X-Videos-Omitted: 0
# - the tracing step's request answers 200: $TRACE_PATH_LINKERD (none, linkerd), $TRACE_PATH_ISTIO (istio, istio-ambient)
# - FLAKY=true on videos-api, 40 pages (360 video calls), then FLAKY as before:
#     none: 20% to 47% of the videos left out (FLAKY_RATE 0.333)
#     a mesh: at most 2 left out (the doc's residual rate: 0.0017% of calls, 1 in 60,000)
# - mTLS: linkerd: viz edges playlists-api -> videos-api secured; istio, istio-ambient: plaintext
#   from namespace default refused; istio-ambient: every catalog pod HBONE in ztunnel
# - the traffic generator's call to videos-api: answered without a mesh, 403 with a mesh
EOF
        return
    fi
    need kubectl curl
    use_cluster
    local mesh
    mesh=$(namespace_mesh)
    ENTRY=$(entry_address)
    [[ -n $ENTRY ]] || die "no entry address: is cloud-provider-kind running? (scripts/kind-demo.sh up)"
    say "check: the namespace is meshed with: $mesh; entry $ENTRY"

    if wait_for_entry /home/; then
        if [[ $BODY == *'<title>Video Catalog</title>'* ]]; then
            ok "/home/ answers 200 with the catalog page"
        else
            fail "/home/ answered 200 but not with the catalog page"
        fi
    else
        fail "/home/ did not answer 200 within 120 s (last: $STATUS ${BODY:0:200})"
    fi
    if wait_for_entry /api/playlists; then
        if [[ $OMITTED == 0 && $TOTAL -gt 0 ]]; then
            ok "/api/playlists answers 200 with all $TOTAL videos"
        else
            fail "/api/playlists left $OMITTED of $TOTAL videos out with FLAKY off"
        fi
    else
        fail "/api/playlists did not answer 200 within 120 s (last: $STATUS ${BODY:0:200})"
    fi
    local trace=$TRACE_PATH_LINKERD
    [[ $mesh == istio || $mesh == istio-ambient ]] && trace=$TRACE_PATH_ISTIO
    entry_get "$trace"
    if [[ $STATUS == 200 && $OMITTED == 0 ]]; then
        ok "the tracing step's request $trace answers 200, every hop allowed"
    else
        fail "the tracing step's request $trace answered $STATUS (${BODY:0:200}): a hop on its way is refused"
    fi

    local flaky_before
    flaky_before=$(kubectl -n "$NS" get deploy videos-api -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="FLAKY")].value}')
    set_flaky on
    sample_flaky 40
    [[ $flaky_before == true ]] || set_flaky off
    if [[ $mesh == none ]]; then
        # FLAKY_RATE 0.333: 360 calls give 120 +- 9 left out; 20%..47% is far outside chance.
        if ((LEFT_OUT * 100 >= CALLS * 20 && LEFT_OUT * 100 <= CALLS * 47)); then
            ok "FLAKY without a mesh: $LEFT_OUT of $CALLS videos left out (about 1 in 3, as injected)"
        else
            fail "FLAKY without a mesh: $LEFT_OUT of $CALLS videos left out, expected about 1 in 3"
        fi
    else
        # The doc's table: 10 tries, 0.0017% of calls still fail: 360 calls expect 0.006;
        # 3 or more would happen by chance less than once in a billion runs.
        if ((CALLS > 0 && LEFT_OUT <= 2)); then
            ok "FLAKY with $mesh's retries: $LEFT_OUT of $CALLS videos left out (the doc: 0.0017% of calls)"
        else
            fail "FLAKY with $mesh's retries: $LEFT_OUT of $CALLS videos left out; the doc says 0.0017% of calls"
        fi
    fi

    case "$mesh" in
    none)
        echo "  (no mesh: no mTLS to check)"
        forbidden_call allowed
        ;;
    linkerd)
        local edges="" deadline=$((SECONDS + 90))
        while ((SECONDS < deadline)); do
            edges=$(linkerd viz -n "$NS" edges deploy -o json 2>/dev/null | tr -d ' \n' | grep -o '{[^}]*"src":"playlists-api"[^}]*"dst":"videos-api"[^}]*}' || true)
            [[ -n $edges ]] && break
            sleep 5
        done
        if [[ $edges == *'"no_tls_reason":""'* ]]; then
            ok "linkerd viz edges: playlists-api -> videos-api secured by mTLS"
        else
            fail "linkerd viz edges shows no secured playlists-api -> videos-api edge within 90 s: ${edges:-none}"
        fi
        forbidden_call denied
        ;;
    istio)
        plaintext_refused
        forbidden_call denied
        ;;
    istio-ambient)
        local workloads bad
        workloads=$(istioctl ztunnel-config workloads --workload-namespace "$NS" 2>&1 || true)
        bad=$(echo "$workloads" | grep -E "^$NS +(videos|playlists|traffic)-" | grep -vw HBONE || true)
        if [[ -z $bad ]] && echo "$workloads" | grep -E "^$NS +(videos|playlists|traffic)-" | grep -qw HBONE; then
            ok "ztunnel carries every catalog pod over HBONE (mTLS)"
        else
            fail "ztunnel: catalog pods not on HBONE: ${bad:-$workloads}"
        fi
        plaintext_refused
        forbidden_call denied
        ;;
    esac
    ((CHECK_FAILED == 0)) || die "check failed (see above)"
    say "check passed: $mesh"
}

# ---------------------------------------------------------------------------------------------
main() {
    if [[ ${1:-} == --dry-run ]]; then
        DRY_RUN=1
        shift
    fi
    case "${1:-}" in
    up | check | down)
        (($# == 1)) || {
            usage
            exit 2
        }
        "cmd_$1"
        ;;
    mesh)
        if (($# != 2)) || [[ " $MESHES " != *" $2 "* ]]; then
            echo "kind-demo: mesh needs one of: $MESHES" >&2
            usage
            exit 2
        fi
        cmd_mesh "$2"
        ;;
    -h | --help)
        usage
        ;;
    *)
        usage
        exit 2
        ;;
    esac
}

main "$@"
