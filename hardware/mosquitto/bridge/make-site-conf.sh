#!/usr/bin/env bash
# Fills in mosquitto-site.conf.template for one site and writes the result to standard output.
#   NTP_BRIDGE_PASSWORD=... ./make-site-conf.sh <site> <central-host> [central-port] > mosquitto.conf
# The password comes from the environment (never the command line, where `ps` shows it); it is
# the central broker's password for the user bridge.<site>. Everything is checked before use:
# the result is a configuration file, and a stray space or newline would add a line to it.
set -euo pipefail

usage() { echo "usage: NTP_BRIDGE_PASSWORD=... $0 <site> <central-host> [central-port]" >&2; exit 2; }
[[ $# -eq 2 || $# -eq 3 ]] || usage

site=$1 host=$2 port=${3:-8883}
# The wire contract's slug (contracts/CONTRACT.md).
[[ $site =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || { echo "site '$site' is not a slug (^[a-z0-9][a-z0-9-]{0,62}\$)" >&2; exit 2; }
# A host name or an IPv4 address; no spaces, no ':' (the port is separate).
[[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$ ]] || { echo "central host '$host' is not a host name or IPv4 address" >&2; exit 2; }
[[ $port =~ ^[0-9]{1,5}$ ]] && (( port >= 1 && port <= 65535 )) || { echo "central port '$port' is not 1-65535" >&2; exit 2; }
password=${NTP_BRIDGE_PASSWORD:-}
# Mosquitto reads the value up to the first space; openssl rand -base64 24 gives 32 such characters.
[[ $password =~ ^[A-Za-z0-9+/=._-]{16,256}$ ]] || { echo "NTP_BRIDGE_PASSWORD must be 16-256 characters of A-Z a-z 0-9 + / = . _ - (openssl rand -base64 24)" >&2; exit 2; }

template="$(dirname "$0")/mosquitto-site.conf.template"
[[ -r $template ]] || { echo "cannot read $template" >&2; exit 1; }

NTP_SITE=$site NTP_CENTRAL_HOST=$host NTP_CENTRAL_PORT=$port NTP_BRIDGE_PASSWORD=$password \
  envsubst '${NTP_SITE} ${NTP_CENTRAL_HOST} ${NTP_CENTRAL_PORT} ${NTP_BRIDGE_PASSWORD}' < "$template"
