#!/usr/bin/env bash
# Writes the central Mosquitto's ACL lines for one bridged site to standard output:
#   ./make-central-acl.sh <site> | sudo tee -a /etc/mosquitto/newtechpark/acl
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <site>" >&2; exit 2; }
[[ $1 =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || { echo "site '$1' is not a slug (^[a-z0-9][a-z0-9-]{0,62}\$)" >&2; exit 2; }
template="$(dirname "$0")/central-acl.template"
[[ -r $template ]] || { echo "cannot read $template" >&2; exit 1; }
NTP_SITE=$1 envsubst '${NTP_SITE}' < "$template"
