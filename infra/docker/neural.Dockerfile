# syntax=docker/dockerfile:1
# The neural separation step (issue 14): the pipeline image plus onnxruntime and the operator's
# own ONNX model, baked in at build time and checked against its SHA-256 (the build fails on a
# mismatch; the engine checks again at load). Nothing is fetched from a model hub, here or at run time.
#
#   docker build -f infra/docker/neural.Dockerfile \
#     --build-arg WEIGHTS_URL=https://.../model.onnx --build-arg WEIGHTS_SHA256=<hex> \
#     [--build-arg MANIFEST_URL=https://.../model.json] .
#
# CDK passes these from `-c neural_weights_url=... -c neural_weights_sha256=...` (infra/README.md,
# "Neural separation"). A presigned S3 URL works for both (give MANIFEST_URL then: the default,
# model.json beside model.onnx, is derived from a plain URL only).
# Lambda (default): CMD handler.separate. AWS Batch on a GPU: `python -m batch_separate`, built with
# ONNXRUNTIME_PACKAGE=onnxruntime-gpu[cuda,cudnn]==..., an x86_64 PYTHON_IMAGE and an amd64 FFMPEG_URL.
ARG PYTHON_IMAGE=public.ecr.aws/lambda/python:3.13

# --- ffmpeg/ffprobe: a static build (as infra/docker/pipeline.Dockerfile) --------------------------
FROM ${PYTHON_IMAGE} AS ffmpeg
ARG FFMPEG_URL=https://johnvansickle.com/ffmpeg/releases/ffmpeg-release-arm64-static.tar.xz
RUN dnf install -y tar xz 2>/dev/null || yum install -y tar xz \
 && curl -fsSL -o /tmp/ffmpeg.tar.xz "${FFMPEG_URL}" \
 && (curl -fsSL -o /tmp/ffmpeg.tar.xz.md5 "${FFMPEG_URL}.md5" \
     && cd /tmp && sed 's#  .*#  /tmp/ffmpeg.tar.xz#' ffmpeg.tar.xz.md5 | md5sum -c - || test -n "${SKIP_FFMPEG_CHECKSUM}") \
 && mkdir -p /tmp/ffmpeg && tar -xJf /tmp/ffmpeg.tar.xz -C /tmp/ffmpeg --strip-components=1 \
 && install -m 0755 /tmp/ffmpeg/ffmpeg /tmp/ffmpeg/ffprobe /usr/local/bin/

# --- the operator's model: downloaded and verified in its own stage -------------------------------
FROM ${PYTHON_IMAGE} AS model
ARG WEIGHTS_URL
ARG WEIGHTS_SHA256
ARG MANIFEST_URL=""
RUN test -n "${WEIGHTS_URL}" && test -n "${WEIGHTS_SHA256}" \
      || (echo "neural.Dockerfile needs --build-arg WEIGHTS_URL and WEIGHTS_SHA256 (your own licensed weights)" >&2; exit 1) \
 && mkdir -p /opt/melody-model \
 && curl -fsSL -o /opt/melody-model/model.onnx "${WEIGHTS_URL}" \
 && echo "${WEIGHTS_SHA256}  /opt/melody-model/model.onnx" | sha256sum -c - \
 && curl -fsSL -o /opt/melody-model/model.json "${MANIFEST_URL:-${WEIGHTS_URL%/*}/model.json}" \
 && python -c "import json,sys; m=json.load(open('/opt/melody-model/model.json')); \
sys.exit(0 if m.get('sha256','').lower()=='${WEIGHTS_SHA256}'.lower() else 'model.json names other weights')"

# --- the image -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG ONNXRUNTIME_PACKAGE=""
ARG WEIGHTS_SHA256
COPY --from=ffmpeg /usr/local/bin/ffmpeg /usr/local/bin/ffprobe /usr/local/bin/
WORKDIR /build
COPY pyproject.toml README.md ./
COPY layers/shared ./layers/shared
COPY layers/audio ./layers/audio
# The audio extra includes onnxruntime (CPU); the GPU build swaps in onnxruntime-gpu. Never torch.
RUN pip install --no-cache-dir --disable-pip-version-check ".[audio]" --target "${LAMBDA_TASK_ROOT}" \
 && if [ -n "${ONNXRUNTIME_PACKAGE}" ]; then \
      rm -rf "${LAMBDA_TASK_ROOT}"/onnxruntime "${LAMBDA_TASK_ROOT}"/onnxruntime-*.dist-info \
      && pip install --no-cache-dir --disable-pip-version-check "${ONNXRUNTIME_PACKAGE}" --target "${LAMBDA_TASK_ROOT}"; \
    fi \
 && rm -rf /build \
 && find "${LAMBDA_TASK_ROOT}" -name '__pycache__' -prune -exec rm -rf {} + \
 && python -c "import sys; sys.path.insert(0, '${LAMBDA_TASK_ROOT}'); import onnxruntime, melody_audio; \
from melody_audio.separate.neural import NeuralEngine; print(onnxruntime.get_available_providers())"
COPY --from=model /opt/melody-model /opt/melody-model
COPY functions/pipeline/handler.py functions/pipeline/batch_separate.py ${LAMBDA_TASK_ROOT}/
WORKDIR ${LAMBDA_TASK_ROOT}
ENV MELODY_WORK_DIR=/tmp PATH=/usr/local/bin:${PATH} \
    MELODY_NEURAL_WEIGHTS=/opt/melody-model MELODY_NEURAL_WEIGHTS_SHA256=${WEIGHTS_SHA256}
# AWS Batch cannot override an image's ENTRYPOINT (only its command): a command starting with
# "python" (the Batch job: python -m batch_separate) runs as is, anything else is a Lambda handler
# for the base image's own entry point.
RUN printf '#!/bin/sh\nif [ "$1" = python ]; then exec "$@"; fi\nexec /lambda-entrypoint.sh "$@"\n' > /usr/local/bin/melody-entry \
 && chmod 0755 /usr/local/bin/melody-entry
ENTRYPOINT ["/usr/local/bin/melody-entry"]
CMD ["handler.separate"]
