# Sourced by the image build before pip runs: use the build secrets when they were given.
#   pip_conf   a pip configuration file (index-url, extra-index-url, ...)
#   ca_bundle  CA certificates for pip's HTTPS connections
# Neither is stored in the image: secrets are mounted for one RUN step only.
if [ -s /run/secrets/pip_conf ]; then
    export PIP_CONFIG_FILE=/run/secrets/pip_conf
fi
if [ -s /run/secrets/ca_bundle ]; then
    export PIP_CERT=/run/secrets/ca_bundle
fi
