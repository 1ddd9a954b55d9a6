# A single static-ish executable (Bun runtime included) on a slim Debian base.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/oauth-https-proxy /usr/local/bin/oauth-https-proxy
ENV DATA_DIR=/data API_HOST=0.0.0.0
VOLUME /data
EXPOSE 80 443 9000
ENTRYPOINT ["oauth-https-proxy"]
CMD ["serve"]
