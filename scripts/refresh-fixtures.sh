#!/usr/bin/env bash
# Refresh the explainer's regression corpus from the lab: run the lab (as root), copy one capture
# per cause into fixtures/captures (one converted to pcapng, one gzip-compressed, to cover the
# reader), then rewrite the expected outputs. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/rstlab-fixtures-XXXX)
node bin/rstlab.js lab --no-color --out "$out" >/dev/null || { echo "the lab had mismatches: see $out/results.json" >&2; exit 1; }
dst=fixtures/captures
mkdir -p "$dst"
rm -f "$dst"/*.pcap "$dst"/*.pcapng "$dst"/*.gz "$dst"/*.expected.txt
for run in refused--node-net kill-server-before-accept--node-net kill-server-before-request-http--okhttp kill-server-before-request-https--okhttp \
  kill-proxy-before-request-https--okhttp kill-server-mid-response-h2--okhttp client-closes-early--node-net \
  client-closes-unread--node-net state-lost--node-net retransmission-timeout--node-net keepalive-timeout--node-net \
  linger-zero--node-net unread-data-kill--okhttp blind-reset--node-http firewall-reset--node-net; do
  cp "$out/captures/$run.pcap" "$dst/$run.pcap"
done
editcap -F pcapng "$dst/kill-server-mid-response-h2--okhttp.pcap" "$dst/kill-server-mid-response-h2--okhttp.pcapng"
rm "$dst/kill-server-mid-response-h2--okhttp.pcap"
gzip -9 "$dst/state-lost--node-net.pcap"
RSTLAB_UPDATE=1 node --test dist/src/explain/golden.test.js dist/src/report/ladder.test.js >/dev/null
rm -rf "$out"
echo "fixtures refreshed in $dst"
