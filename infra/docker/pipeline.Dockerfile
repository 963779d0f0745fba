# syntax=docker/dockerfile:1
# The audio pipeline's heavy steps (probe, separate, analyse) as one Lambda container image.
# Build context: the repository root (CDK stages only pyproject.toml, README.md, layers/,
# functions/pipeline/ and this file; see melody_infra/stacks/pipeline.py PIPELINE_IMAGE_FILES).
# The function's CMD picks the step: handler.probe | handler.separate | handler.analyse.
# Why an image and not layers: see infra/README.md ("Packaging the audio pipeline").
ARG PYTHON_IMAGE=public.ecr.aws/lambda/python:3.13

# --- ffmpeg/ffprobe: a static build (no shared libraries to ship) ---------------------------------
FROM ${PYTHON_IMAGE} AS ffmpeg
# Static builds by John Van Sickle (https://johnvansickle.com/ffmpeg/); override for a mirror or an
# LGPL build (the engine needs only the native aac encoder and the mp3/aac/vorbis/opus/flac/pcm decoders).
ARG FFMPEG_URL=https://johnvansickle.com/ffmpeg/releases/ffmpeg-release-arm64-static.tar.xz
RUN dnf install -y tar xz 2>/dev/null || yum install -y tar xz \
 && curl -fsSL -o /tmp/ffmpeg.tar.xz "${FFMPEG_URL}" \
 && (curl -fsSL -o /tmp/ffmpeg.tar.xz.md5 "${FFMPEG_URL}.md5" \
     && cd /tmp && sed 's#  .*#  /tmp/ffmpeg.tar.xz#' ffmpeg.tar.xz.md5 | md5sum -c - || test -n "${SKIP_FFMPEG_CHECKSUM}") \
 && mkdir -p /tmp/ffmpeg && tar -xJf /tmp/ffmpeg.tar.xz -C /tmp/ffmpeg --strip-components=1 \
 && install -m 0755 /tmp/ffmpeg/ffmpeg /tmp/ffmpeg/ffprobe /usr/local/bin/ \
 && /usr/local/bin/ffmpeg -hide_banner -version | head -1

# --- the image -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
COPY --from=ffmpeg /usr/local/bin/ffmpeg /usr/local/bin/ffprobe /usr/local/bin/
WORKDIR /build
COPY pyproject.toml README.md ./
COPY layers/shared ./layers/shared
COPY layers/audio ./layers/audio
# The melody package (runtime dependencies + the audio extra: numpy, scipy, pyloudnorm, ffmpeg-python),
# installed into the task root so the handler imports it like any other module.
RUN pip install --no-cache-dir --disable-pip-version-check ".[audio]" --target "${LAMBDA_TASK_ROOT}" \
 && rm -rf /build \
 && find "${LAMBDA_TASK_ROOT}" -name '__pycache__' -prune -exec rm -rf {} + \
 && python -c "import sys; sys.path.insert(0, '${LAMBDA_TASK_ROOT}'); import numpy, scipy, pyloudnorm, melody_audio, melody.conversions.steps"
COPY functions/pipeline/handler.py ${LAMBDA_TASK_ROOT}/handler.py
WORKDIR ${LAMBDA_TASK_ROOT}
ENV MELODY_WORK_DIR=/tmp PATH=/usr/local/bin:${PATH}
CMD ["handler.probe"]
