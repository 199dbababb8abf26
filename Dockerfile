# The three services' images from one file: the C++ is compiled once, in the shared `build` stage,
# and each service's target copies its one executable onto a slim runtime base.
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
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what the C++ build reads, so that edits to web/, docs or tests keep this stage cached.
COPY CMakeLists.txt CMakePresets.json ./
COPY common/ common/
COPY services/ services/
RUN cmake --preset release -DMESHDEMO_BUILD_TESTS=OFF \
    && cmake --build build/release --parallel "$(nproc)" \
    && mkdir -p /out \
    && for service in videos-api playlists-api videos-web; do \
           strip --strip-unneeded -o "/out/$service" "build/release/services/$service/$service"; \
       done

# ---- runtime: the shared libraries the executables link (ldd: spdlog, fmt, hiredis, simdjson; libstdc++,
# libgcc and libc are in the base already), a numeric non-root user, nothing else
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis0.14 libsimdjson14 libspdlog1.10 libfmt9 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

ARG VERSION=1.0.0
ARG SOURCE_URL=https://github.com/servicemesh/servicemesh-demo
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.vendor="servicemesh demo" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

WORKDIR /app
# 10001, not 1337 (Istio's proxy user); no passwd entry is needed for a numeric user.
USER 10001:10001
# 9090 is every service's admin port: /healthz, /readyz, /metrics.
EXPOSE 9090

# ---- videos-api: GET /{id} from Redis (videos-db)
FROM runtime AS videos-api
LABEL org.opencontainers.image.title="videos-api" \
      org.opencontainers.image.description="Video catalog service-mesh demo: serves one video's JSON by id from Redis"
COPY --from=build /out/videos-api /app/bin/videos-api
EXPOSE 10010
ENTRYPOINT ["/app/bin/videos-api"]

# ---- playlists-api: the playlists from Redis (playlists-db), each video fetched from videos-api
FROM runtime AS playlists-api
LABEL org.opencontainers.image.title="playlists-api" \
      org.opencontainers.image.description="Video catalog service-mesh demo: playlists from Redis joined with their videos from videos-api"
COPY --from=build /out/playlists-api /app/bin/playlists-api
EXPOSE 10010
ENTRYPOINT ["/app/bin/playlists-api"]

# ---- videos-web: the page (web/) and /api/playlists forwarded to playlists-api
FROM runtime AS videos-web
LABEL org.opencontainers.image.title="videos-web" \
      org.opencontainers.image.description="Video catalog service-mesh demo: the catalog page, with /api/playlists forwarded to playlists-api"
COPY --from=build /out/videos-web /app/bin/videos-web
COPY web/ /app/web/
ENV WEB_ROOT=/app/web
EXPOSE 8080
ENTRYPOINT ["/app/bin/videos-web"]
