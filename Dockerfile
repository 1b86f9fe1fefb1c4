# syntax=docker/dockerfile:1
# olla as a small container: the build stage compiles the standalone binary (cross-compiling on the
# build machine's own platform, so a multi-arch build needs no emulation); the final stage is
# distroless with glibc, which is all the binary needs (no shell, no package manager).
#
#   docker build -t olla .
#   docker run -p 40114:40114 -v ./config.yaml:/config/config.yaml:ro olla

FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build
WORKDIR /src
# Bun comes from npm as a pinned dev dependency, like everywhere else in this project.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY build.ts bunfig.toml tsconfig.json ./
COPY build ./build
COPY src ./src
COPY config ./config
ARG TARGETARCH
ARG OLLA_COMMIT=unknown
ARG OLLA_BUILD_DATE=
# Docker says amd64 where Bun says x64; arm64 is the same in both.
RUN case "$TARGETARCH" in amd64) arch=x64 ;; *) arch="$TARGETARCH" ;; esac \
 && node_modules/.bin/bun build.ts --binaries-only --target "linux-$arch" --out /out \
      --commit "$OLLA_COMMIT" --date "$OLLA_BUILD_DATE" \
 && mv "/out/olla-linux-$arch" /out/olla

# base (glibc, CA certificates, tzdata, a nonroot user), not static: the binary links glibc. cc is not
# needed: it only adds libstdc++, which the binary does not use.
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/olla /usr/local/bin/olla
COPY config/config.yaml /config/config.yaml
# Listen on every interface inside the container; read the config from /config (mount yours over it).
ENV OLLA_CONFIG_FILE=/config/config.yaml \
    OLLA_SERVER_HOST=0.0.0.0
# 65532 is distroless's "nonroot" user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 40114
# Exec form: distroless has no shell. `olla health` reads the same config and env to find the port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/olla", "health"]
ENTRYPOINT ["/usr/local/bin/olla"]
CMD ["serve"]
