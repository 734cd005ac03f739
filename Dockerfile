# mock-ft: the mock Fast Track CRM, plus the `reference-operator` platform, in one image.
#
#   docker build -t mock-ft .
#   docker run --rm -p 127.0.0.1:8765:8765 -e MOCK_FT_CONTROL_TOKEN="$(openssl rand -hex 16)" mock-ft
#   docker run --rm mock-ft verify --operator-url URL --auth api-key:KEY --user-id ID
#   docker run --rm -p 127.0.0.1:8766:8766 --entrypoint reference-operator mock-ft \
#       serve --host 0.0.0.0 --ft-url http://MOCK_HOST:8765
#
# Inside the container the mock binds 0.0.0.0 (MOCK_FT_HOST), so `serve` refuses to start without
# MOCK_FT_CONTROL_TOKEN: publish the port on 127.0.0.1 and set a token. `verify` and `replay`
# send that token to a mock's /_mock/ API when they are given it.
# Journal, reports and the operator's database go to /data (a volume; WORKDIR); the shipped
# scenarios are in /opt/mock-ft/scenarios.
#
# BASE_IMAGE: the Python both stages run on (the venv is copied between them, so they must be the
# same Python at the same path). BUILDER_IMAGE: the build stage only; an offline build passes an
# image that holds a wheelhouse and sets PIP_NO_INDEX=1 and PIP_FIND_LINKS (scripts/container-smoke).
ARG BASE_IMAGE=python:3.11-slim
ARG BUILDER_IMAGE=${BASE_IMAGE}

FROM ${BUILDER_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change,
# not on every source edit. The image is the whole tool: the base dependencies plus the extras
# verify, brokers, scenarios and postgres (not dev; `mock-ft[...]` self-references are left out).
COPY pyproject.toml ./
RUN python -c "import tomllib; \
project = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = project['optional-dependencies']; \
wanted = project['dependencies'] + [r for name in ('verify', 'brokers', 'scenarios', 'postgres') \
    for r in extras[name] if not r.startswith('mock-ft')]; \
open('/tmp/requirements.txt', 'w').write('\n'.join(wanted) + '\n')" \
    && pip install --requirement /tmp/requirements.txt

# Then the project itself, without touching the dependencies installed above. README.md is the
# wheel's long description; contracts/, reference_operator/ and scenarios/ are packed into the
# wheel inside mock_ft (mock_ft/_contracts, mock_ft/reference_operator, mock_ft/_scenarios).
COPY README.md ./
COPY contracts/ contracts/
COPY mock_ft/ mock_ft/
COPY reference_operator/ reference_operator/
COPY scenarios/ scenarios/
# -P: import the installed package, not the source folder in this WORKDIR.
RUN pip install --no-deps . \
    && python -P -c "import mock_ft.verify.contract, mock_ft.scenarios.report, mock_ft.reference_operator.app" \
    && mock-ft --help >/dev/null \
    && reference-operator --help >/dev/null


FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOCK_FT_HOST=0.0.0.0 \
    MOCK_FT_PORT=8765 \
    MOCK_FT_JOURNAL=/data/journal.sqlite3 \
    REFERENCE_OPERATOR_DATABASE=/data/platform.sqlite3

RUN groupadd --system --gid 10001 mockft \
    && useradd --system --uid 10001 --gid mockft --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin mockft \
    && mkdir /data \
    && chown mockft:mockft /data

COPY --from=builder /opt/venv /opt/venv
# The shipped scenarios, for `replay /opt/mock-ft/scenarios/...` (read-only; mount your own).
COPY scenarios/ /opt/mock-ft/scenarios/

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8765 8766

# No curl in the image: Python asks the mock's liveness endpoint. HEALTHCHECK_URL points it
# elsewhere, e.g. http://127.0.0.1:8766/openapi.json for a reference-operator container.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('HEALTHCHECK_URL') or 'http://127.0.0.1:%s/_mock/health' % os.environ.get('MOCK_FT_PORT', '8765'), timeout=4)"]

ENTRYPOINT ["mock-ft"]
CMD ["serve"]
