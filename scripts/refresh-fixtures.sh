#!/usr/bin/env bash
# Refresh the explainer's regression corpus from the lab: run the lab (as root), copy one capture
# per cause into fixtures/captures (one converted to pcapng, one gzip-compressed, to cover the
# reader) with the kernel's own record of each of its RSTs beside it (<capture>.kernel.json, from
# results.json: tcp:tcp_send_reset's reason and state, null where no kernel TCP sent it), then
# rewrite the expected outputs. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/rstlab-fixtures-XXXX)
node bin/rstlab.js lab --no-color --parallel 1 --out "$out" >/dev/null || { echo "the lab had mismatches: see $out/results.json" >&2; exit 1; }
dst=fixtures/captures
mkdir -p "$dst"
# (random-*: disagreements found by `rstlab lab --random`, kept as they were found.)
find "$dst" -maxdepth 1 -type f ! -name 'random-*' \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' -o -name '*.expected.txt' -o -name '*.kernel.json' \) -delete
for run in refused--node-net kill-server-before-accept--node-net kill-server-before-request-http--okhttp kill-server-before-request-https--okhttp \
  kill-proxy-before-request-https--okhttp kill-server-mid-response-h2--okhttp client-closes-early--node-net \
  client-closes-unread--node-net state-lost--node-net retransmission-timeout--node-net keepalive-timeout--node-net \
  linger-zero--node-net unread-data-kill--okhttp blind-reset--node-http firewall-reset--node-net \
  socket-killed--node-net fin-wait2-expired--node-net accept-queue-overflow--node-net \
  half-open-reconnect--node-net half-open-reconnect-ipv6--node-net linger2-close--node-net abort-with-unsent-data--node-net \
  close-with-unsent-data-ipv6--node-net time-wait-segment--node-net user-timeout--node-net; do
  cp "$out/captures/$run.pcap" "$dst/$run.pcap"
  node scripts/kernel-fixture.mjs "$out/results.json" "$run" > "$dst/$run.pcap.kernel.json"
done
editcap -F pcapng "$dst/kill-server-mid-response-h2--okhttp.pcap" "$dst/kill-server-mid-response-h2--okhttp.pcapng"
rm "$dst/kill-server-mid-response-h2--okhttp.pcap"
mv "$dst/kill-server-mid-response-h2--okhttp.pcap.kernel.json" "$dst/kill-server-mid-response-h2--okhttp.pcapng.kernel.json"
gzip -9 "$dst/state-lost--node-net.pcap"
mv "$dst/state-lost--node-net.pcap.kernel.json" "$dst/state-lost--node-net.pcap.gz.kernel.json"
RSTLAB_UPDATE=1 node --test dist/src/explain/golden.test.js dist/src/report/ladder.test.js >/dev/null
rm -rf "$out"
echo "fixtures refreshed in $dst"
