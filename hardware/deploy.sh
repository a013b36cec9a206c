#!/usr/bin/env bash
# Publishes the edge agent for a Raspberry Pi and installs it over ssh as the systemd service
# ntp-edge-agent. Run from anywhere in the repository; needs the .NET SDK here and sudo on the Pi.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: hardware/deploy.sh [options] USER@HOST [USER@HOST ...]

Publishes edge-agent for the Pi's architecture (linux-arm64: one NativeAOT binary, well under
half the memory of the JIT program; linux-arm: self-contained JIT) and installs it on each host:
  /opt/ntp-edge-agent/            the program (replaced; the previous one kept as .previous)
  /etc/systemd/system/ntp-edge-agent.service
  /etc/newtechpark/edge-agent.env  secrets and per-Pi settings (root:root 0600): created once with
                                   Agent:Device and Broker:Username = the host name, or installed
                                   from --env; an old /etc/ntp-edge-agent/environment is moved here
  /var/lib/ntp-edge-agent/         state and outbox (kept), owned by the ntp-edge user
prints `edge-agent sensors` (the wiring check) and (re)starts the service.

Options:
  -r, --runtime RID     linux-arm64 (Pi 3/4/5/Zero 2 with 64-bit OS, the default),
                        linux-arm (32-bit OS, Pi 2/Zero W), or auto (ask the Pi: uname -m)
  -s, --settings FILE   appsettings.json to install (the sensors of this Pi); default: keep the
                        one on the Pi, or install edge-agent/appsettings.json the first time
  -e, --env FILE        install FILE as /etc/newtechpark/edge-agent.env (one host only): the
                        broker password and site key of this Pi. Sent over ssh's stdin straight
                        into place, never through a temporary file; refused if git tracks it
  -c, --configuration C Release (default) or Debug
  -n, --no-restart      install but do not (re)start the service
      --jit             linux-arm64 as the self-contained JIT program instead of NativeAOT
                        (no cross toolchain needed here; uses about twice the memory)
      --publish-only    publish for the runtime(s) into out/edge-agent-<rid> and stop
  -h, --help            this text

Examples:
  hardware/deploy.sh pi@pi-dc-lab
  hardware/deploy.sh -r auto -s site/pi-entrance.json pi@pi-entrance
  hardware/deploy.sh -e ~/newtechpark-secrets/pi-entrance.env pi@pi-entrance
  hardware/deploy.sh --publish-only -r linux-arm
USAGE
}

runtime="linux-arm64"
settings=""
env_file=""
configuration="Release"
restart=1
publish_only=0
jit=0
hosts=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        -r|--runtime) runtime="${2:?--runtime needs a value}"; shift 2 ;;
        -s|--settings) settings="${2:?--settings needs a file}"; shift 2 ;;
        -e|--env) env_file="${2:?--env needs a file}"; shift 2 ;;
        -c|--configuration) configuration="${2:?--configuration needs a value}"; shift 2 ;;
        -n|--no-restart) restart=0; shift ;;
        --publish-only) publish_only=1; shift ;;
        --jit) jit=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
        *) hosts+=("$1"); shift ;;
    esac
done

case "$runtime" in
    linux-arm64|linux-arm|auto) ;;
    *) echo "runtime must be linux-arm64, linux-arm or auto, not '$runtime'" >&2; exit 2 ;;
esac

if [[ $publish_only -eq 0 && ${#hosts[@]} -eq 0 ]]; then
    echo "no host given" >&2
    usage >&2
    exit 2
fi

if [[ -n "$settings" && ! -f "$settings" ]]; then
    echo "settings file '$settings' does not exist" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -n "$env_file" ]]; then
    if [[ ! -f "$env_file" ]]; then
        echo "env file '$env_file' does not exist" >&2
        exit 2
    fi
    if [[ ${#hosts[@]} -ne 1 ]]; then
        echo "--env holds one Pi's secrets: give exactly one host with it" >&2
        exit 2
    fi
    if git -C "$repo" ls-files --error-unmatch -- "$(realpath "$env_file")" >/dev/null 2>&1; then
        echo "env file '$env_file' is tracked by git: secrets do not belong in the repository" >&2
        exit 2
    fi
fi
unit="$repo/hardware/systemd/ntp-edge-agent.service"

publish() {
    local rid="$1"
    local out="$repo/out/edge-agent-$rid"
    local kind=(--self-contained -p:PublishReadyToRun=false)
    if [[ "$rid" == "linux-arm64" && $jit -eq 0 ]]; then
        # NativeAOT cross-compiles with clang for aarch64 and links against Debian's arm64 libc.
        kind=(-p:PublishAot=true)
        if ! compgen -c clang | grep -qE '^clang(-[0-9]+)?$' || [[ ! -e /usr/aarch64-linux-gnu/lib/libc.so ]]; then
            echo "NativeAOT for linux-arm64 needs clang and the arm64 cross libraries here:" >&2
            echo "  sudo apt-get install -y clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross" >&2
            echo "or publish the JIT program instead with --jit" >&2
            exit 1
        fi
    fi

    echo "==> publishing edge-agent for $rid into $out (${kind[*]})" >&2
    rm -rf "$out"
    dotnet publish "$repo/edge-agent/NewTechPark.Edge.Agent.csproj" \
        -c "$configuration" -r "$rid" "${kind[@]}" -p:DebugType=none \
        -o "$out" --artifacts-path "$repo/out/artifacts-$rid" -nologo >&2
    test -x "$out/edge-agent" || { echo "publish for $rid produced no edge-agent" >&2; exit 1; }
    # NativeAOT's separated debug symbols (30 MB) stay here, in the artifacts folder, not on the Pi.
    rm -f "$out/edge-agent.dbg"
    printf '%s\n' "$out"
}

rid_of() {
    local host="$1"
    if [[ "$runtime" != "auto" ]]; then
        printf '%s\n' "$runtime"
        return
    fi

    case "$(ssh -o BatchMode=yes "$host" uname -m)" in
        aarch64|arm64) printf 'linux-arm64\n' ;;
        armv7l|armv6l) printf 'linux-arm\n' ;;
        *) echo "$host is not a Raspberry Pi architecture we publish for" >&2; exit 1 ;;
    esac
}

if [[ $publish_only -eq 1 ]]; then
    if [[ "$runtime" == "auto" ]]; then
        publish linux-arm64 >/dev/null
        publish linux-arm >/dev/null
    else
        publish "$runtime" >/dev/null
    fi
    exit 0
fi

declare -A published=()

for host in "${hosts[@]}"; do
    rid="$(rid_of "$host")"
    if [[ -z "${published[$rid]:-}" ]]; then
        published[$rid]="$(publish "$rid")"
    fi

    out="${published[$rid]}"
    device="${host#*@}"
    device="${device%%.*}"
    staging="/tmp/ntp-edge-agent.$$"
    echo "==> installing on $host ($rid, device $device)" >&2

    ssh -o BatchMode=yes "$host" "rm -rf '$staging' && mkdir -p '$staging/app'"
    # The program, the unit and (if given) this Pi's settings.
    tar -C "$out" -czf - . | ssh -o BatchMode=yes "$host" "tar -C '$staging/app' -xzf -"
    scp -q -o BatchMode=yes "$unit" "$host:$staging/ntp-edge-agent.service"
    if [[ -n "$settings" ]]; then
        scp -q -o BatchMode=yes "$settings" "$host:$staging/appsettings.json"
    fi

    if [[ -n "$env_file" ]]; then
        # Straight from this machine into the root-only file: no copy in /tmp, nothing on a command line.
        ssh -o BatchMode=yes "$host" "sudo sh -c 'umask 077 && mkdir -p /etc/newtechpark && cat > /etc/newtechpark/edge-agent.env.new && chown root:root /etc/newtechpark/edge-agent.env.new && chmod 0600 /etc/newtechpark/edge-agent.env.new && mv /etc/newtechpark/edge-agent.env.new /etc/newtechpark/edge-agent.env'" < "$env_file"
    fi

    ssh -o BatchMode=yes "$host" sudo bash -s -- "$staging" "$device" "$restart" <<'REMOTE'
set -euo pipefail
staging="$1"
device="$2"
restart="$3"

id ntp-edge >/dev/null 2>&1 || useradd --system --home-dir /var/lib/ntp-edge-agent --shell /usr/sbin/nologin ntp-edge
for group in gpio i2c spi; do
    if getent group "$group" >/dev/null; then
        usermod -aG "$group" ntp-edge
    else
        echo "warning: group $group missing: enable I2C/SPI (hardware/pi-setup.md)" >&2
    fi
done
install -d -o ntp-edge -g ntp-edge -m 0750 /var/lib/ntp-edge-agent
install -d -o root -g root -m 0755 /etc/newtechpark

# Keep the Pi's own settings unless new ones were sent.
if [[ -f "$staging/appsettings.json" ]]; then
    cp "$staging/appsettings.json" "$staging/app/appsettings.json"
elif [[ -f /opt/ntp-edge-agent/appsettings.json ]]; then
    cp /opt/ntp-edge-agent/appsettings.json "$staging/app/appsettings.json"
fi

# Secrets live in /etc/newtechpark/edge-agent.env, read by systemd as root: root:root 0600.
env=/etc/newtechpark/edge-agent.env
if [[ ! -f "$env" && -f /etc/ntp-edge-agent/environment ]]; then
    mv /etc/ntp-edge-agent/environment "$env"
    rmdir /etc/ntp-edge-agent 2>/dev/null || true
fi
if [[ ! -f "$env" ]]; then
    (
        umask 077
        cat > "$env" <<ENV
# Secrets and settings of this Pi's edge agent (hardware/systemd/README.md). root:root 0600.
NTP_Agent__Device=$device
NTP_Agent__Broker__Username=$device
# NTP_Agent__Broker__Host=collector.newtechpark.local
# The password given to mosquitto_passwd for this device (hardware/mosquitto/README.md):
# NTP_Agent__Broker__Password=
# Pis with a badge reader: the site's key for visitor pseudonyms, the same on every Pi:
# NTP_Agent__SiteKey=
ENV
    )
fi
chown root:root "$env"
chmod 0600 "$env"

systemctl stop ntp-edge-agent 2>/dev/null || true
rm -rf /opt/ntp-edge-agent.previous
if [[ -d /opt/ntp-edge-agent ]]; then
    mv /opt/ntp-edge-agent /opt/ntp-edge-agent.previous
fi
mv "$staging/app" /opt/ntp-edge-agent
chown -R root:root /opt/ntp-edge-agent
chmod 0755 /opt/ntp-edge-agent/edge-agent
install -m 0644 "$staging/ntp-edge-agent.service" /etc/systemd/system/ntp-edge-agent.service
rm -rf "$staging"

systemctl daemon-reload
systemctl enable ntp-edge-agent >/dev/null

# Check the wiring while the service is stopped (it holds the GPIO lines when running).
(
    # The same NAME=value lines systemd reads, taken literally (no shell expansion of a password's
    # $ or backquote, as sourcing the file would do).
    while IFS= read -r line; do
        if [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
            export "$line"
        fi
    done < /etc/newtechpark/edge-agent.env
    cd /var/lib/ntp-edge-agent
    sudo -u ntp-edge --preserve-env /opt/ntp-edge-agent/edge-agent sensors --Agent:Hardware=Real
) || echo "warning: not every sensor is ok (see above); the service reports them in its status" >&2

if [[ "$restart" == "1" ]]; then
    systemctl restart ntp-edge-agent
    systemctl --no-pager --lines=0 status ntp-edge-agent || true
fi
REMOTE
    echo "==> $host done" >&2
done
