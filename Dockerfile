# gatewise's container image: the static gatewise binary alone, run as a
# non-root user, on distroless's static base (CA certificates, time zones
# and /etc/passwd; no shell, no package manager).
#
#   docker build -t gatewise --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -p 127.0.0.1:8080:8080 -v gatewise-data:/data gatewise
#
# With no GATEWISE_DB the server keeps its SQLite file in /data; compose.yaml
# runs it on PostgreSQL beside a worker. With podman, build with --format
# docker: its default OCI format drops the HEALTHCHECK.
# tools/container-check/run.sh builds and runs it with podman; README.md,
# "Docker", says on which base images and what that proves.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a change to the code alone reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
# A static binary (pure Go: SQLite is modernc's, no cgo), without the
# builder's paths in it.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X gatewise/version.tag=${VERSION}" -o /out/gatewise ./cmd/gatewise
# The data folder, owned by the image's user, so a named volume mounted
# there starts writable.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatewise /gatewise
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV GATEWISE_ADDR=0.0.0.0:8080 \
    GATEWISE_DB=/data/gatewise.db \
    GATEWISE_UPLOAD_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
# The image has no shell or curl: gatewise asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/gatewise", "healthcheck"]
ENTRYPOINT ["/gatewise"]
CMD ["serve"]
