# The oauth-https-proxy image: the single executable (Bun runtime included) as a non-root user.
# Build it with scripts/build-image.sh, which stages this file's build context (dist/image: the
# executable, a CA bundle, an empty data/) and, with no registry, makes the default BASE from this
# machine's own libraries. With a registry, any glibc distribution image works as BASE:
#   BASE=debian:bookworm-slim scripts/build-image.sh
#   docker build --build-arg BASE=debian:bookworm-slim -f Dockerfile dist/image   (after a first run of the script)
ARG BASE=oauth-https-proxy-base:latest
FROM ${BASE}
ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="oauth-https-proxy" \
      org.opencontainers.image.description="HTTPS edge with ACME certificates and an OAuth 2.1 authorization server" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# The store lives in the volume at /data; a new named volume takes this directory's owner.
COPY --chown=10001:10001 data/ /data/
COPY oauth-https-proxy /usr/local/bin/oauth-https-proxy

# API_HOST=0.0.0.0: the API is reached through the port Docker publishes (compose.yaml: on 127.0.0.1 only).
ENV DATA_DIR=/data API_HOST=0.0.0.0 HOME=/data SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Never root. Ports 80 and 443 below 1024 are bound through the unprivileged-port sysctl, which Docker
# 20.10+ sets to 0 in every container's network namespace (compose.yaml sets it explicitly).
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 80 443 9000
# The executable checks its own API (API_HOST:API_PORT): no curl in the image.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/usr/local/bin/oauth-https-proxy", "health"]
ENTRYPOINT ["/usr/local/bin/oauth-https-proxy"]
CMD ["serve"]
