# syntax=docker/dockerfile:1
# The score pipeline's analyse step (music21) as a Lambda container image: music21 with its
# numpy/matplotlib dependencies does not fit beside the shared layers in the 250 MB zip limit.
# Build context: the repository root, reduced by melody_infra/stacks/scores.py SCORE_IMAGE_FILES
# to pyproject.toml, README.md, layers/shared, layers/scores, functions/score_pipeline and this file.
ARG PYTHON_IMAGE=public.ecr.aws/lambda/python:3.13
FROM ${PYTHON_IMAGE}
WORKDIR /build
COPY pyproject.toml README.md ./
COPY layers/shared ./layers/shared
COPY layers/scores ./layers/scores
# setuptools' package discovery lists every layer's folder: empty stand-ins for those not shipped here.
RUN mkdir -p layers/audio/python devtools \
 && pip install --no-cache-dir --disable-pip-version-check ".[scores]" --target "${LAMBDA_TASK_ROOT}" \
 && rm -rf /build \
 && find "${LAMBDA_TASK_ROOT}" -name '__pycache__' -prune -exec rm -rf {} + \
 && python -c "import sys; sys.path.insert(0, '${LAMBDA_TASK_ROOT}'); import music21, melody_scores, melody.scores.steps"
COPY functions/score_pipeline/handler.py ${LAMBDA_TASK_ROOT}/handler.py
WORKDIR ${LAMBDA_TASK_ROOT}
# music21 writes its settings and scratch files under HOME; in Lambda only /tmp is writable.
ENV MELODY_WORK_DIR=/tmp HOME=/tmp
CMD ["handler.analyse"]
