# The three services' images from one file: the C++ is compiled once, in the shared `build` stage,
# and each service's image is its executable with exactly the shared libraries it links, on an
# empty base (about 8 MB each instead of 80 MB on debian:bookworm-slim). With no shell inside,
# the health check is the executable itself (`/app/bin/<service> --probe`); to look around in a
# running container use an ephemeral debug container (`kubectl debug -it POD --image=busybox
# --target=<container>`, or `docker run --pid=container:ID --net=container:ID -it busybox`).
#
#   docker build --target videos-api    -t servicemesh/videos-api:1.0.0 .
#   docker build --target playlists-api -t servicemesh/playlists-api:1.0.0 .
#   docker build --target videos-web    -t servicemesh/videos-web:1.0.0 .
#
# (podman build takes the same arguments.) Only Debian packages and the sources are used: no
# architecture-specific downloads, so the same file builds on amd64 and arm64.

# ---- build: the toolchain and -dev packages, one CMake build of all three executables
FROM debian:bookworm-slim AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        g++ cmake make pkg-config \
        libboost1.81-dev libhiredis-dev nlohmann-json3-dev libsimdjson-dev libspdlog-dev libfmt-dev \
        prometheus-cpp-dev \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what the C++ build reads, so that edits to web/, docs or tests keep this stage cached.
COPY CMakeLists.txt CMakePresets.json ./
COPY common/ common/
COPY services/ services/
RUN cmake --preset release -DMESHDEMO_BUILD_TESTS=OFF \
    && cmake --build build/release --parallel "$(nproc)"

# ---- rootfs: for each service, a root file system holding only what its executable needs: the
# stripped executable, the exact shared libraries and loader it links (as ldd lists them, at the
# same paths), name-service configuration, and nothing else: no shell, no package manager.
# glibc 2.36 has its "files" and "dns" name services built in, so names resolve as before.
FROM build AS rootfs
RUN for service in videos-api playlists-api videos-web; do \
        root="/rootfs/$service"; \
        mkdir -p "$root/app/bin" "$root/etc" "$root/tmp"; \
        strip --strip-unneeded -o "$root/app/bin/$service" "build/release/services/$service/$service"; \
        for library in $(ldd "$root/app/bin/$service" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
            cp --parents --dereference "$library" "$root"; \
        done; \
        printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"; \
        printf 'root:x:0:0:root:/:/sbin/nologin\napp:x:10001:10001:app:/app:/sbin/nologin\n' >"$root/etc/passwd"; \
        printf 'root:x:0:\napp:x:10001:\n' >"$root/etc/group"; \
        chmod 1777 "$root/tmp"; \
    done

# ---- runtime: what every service image shares on top of its root file system
FROM scratch AS runtime
ARG VERSION=1.0.0
ARG SOURCE_URL=https://github.com/servicemesh/servicemesh-demo
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.vendor="servicemesh demo"
WORKDIR /app
# 10001, not 1337 (Istio's proxy user).
USER 10001:10001
# 9090 is every service's admin port: /healthz, /readyz, /metrics.
EXPOSE 9090

# ---- videos-api: GET /{id} from Redis (videos-db)
FROM runtime AS videos-api
LABEL org.opencontainers.image.title="videos-api" \
      org.opencontainers.image.description="Video catalog service-mesh demo: serves one video's JSON by id from Redis"
COPY --from=rootfs /rootfs/videos-api/ /
EXPOSE 10010
ENTRYPOINT ["/app/bin/videos-api"]

# ---- playlists-api: the playlists from Redis (playlists-db), each video fetched from videos-api
FROM runtime AS playlists-api
LABEL org.opencontainers.image.title="playlists-api" \
      org.opencontainers.image.description="Video catalog service-mesh demo: playlists from Redis joined with their videos from videos-api"
COPY --from=rootfs /rootfs/playlists-api/ /
EXPOSE 10010
ENTRYPOINT ["/app/bin/playlists-api"]

# ---- videos-web: the page (web/) and /api/playlists forwarded to playlists-api
FROM runtime AS videos-web
LABEL org.opencontainers.image.title="videos-web" \
      org.opencontainers.image.description="Video catalog service-mesh demo: the catalog page, with /api/playlists forwarded to playlists-api"
COPY --from=rootfs /rootfs/videos-web/ /
COPY web/ /app/web/
ENV WEB_ROOT=/app/web
EXPOSE 8080
ENTRYPOINT ["/app/bin/videos-web"]
