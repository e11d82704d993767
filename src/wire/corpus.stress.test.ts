// Corpus oracle: tcpdump's own test captures (830 files, many damaged). For every file,
// decodeFrame on every packet must not throw, and the frames it decodes as TCP with RST must be
// exactly the frames `tcpdump -# -nr FILE` prints as TCP with `R` in `Flags [...]`.
// To stay fast, tcpdump runs only on the files that carry TCP: those in TCPDUMP_TCP_FILES (every file
// where tcpdump 4.99 prints a TCP line, precomputed) plus any file where we decode TCP ourselves.
// The corpus is ../shared/corpus/tcpdump-tests beside the repository, or $RSTLAB_TCPDUMP_CORPUS;
// without it the test is skipped (saying so), except in CI, where it fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../capture/reader.js';
import { sharedCorpus } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';
import { decodeFrame } from './decode.js';
import { tcpdumpRstFrames, tcpdumpTcpFlags } from './tcpdump-oracle.js';

/** Files of the corpus in which tcpdump 4.99.3 prints at least one TCP line (`… > …: Flags [`). */
const TCPDUMP_TCP_FILES: readonly string[] = [
  'accecn_handshake.pcap', 'arcnet-rfc1051-arp-icmp-http.pcap', 'arcnet-rfc1201-arp-icmp-http.pcap',
  'babel_update_oobr.pcap', 'beep-oobr.pcap', 'bgp-4byte-asn.pcap', 'bgp-addpath.pcap', 'bgp-aigp-2.pcap',
  'bgp-aigp-oobr.pcap', 'bgp-aigp.pcap', 'bgp-as-path-oobr.pcap', 'bgp-bfd-cease.pcap',
  'bgp-bgp_capabilities_print-oobr-1.pcap', 'bgp-bgp_capabilities_print-oobr-2.pcap', 'bgp-bgpsec.pcap',
  'bgp-cease-hard-reset.pcap', 'bgp-encap.pcap', 'bgp-enhanced-route-refresh-subtype.pcapng',
  'bgp-enhanced-route-refresh.pcapng', 'bgp-evpn.pcap', 'bgp-extended-msg.pcapng',
  'bgp-extended-optional-parameters-length.pcapng', 'bgp-extended-shutdown-msg.pcapng',
  'bgp-infinite-loop.pcap', 'bgp-large-community.pcap', 'bgp-link-bw-extcommunity.pcapng',
  'bgp-lu-multiple-labels.pcap', 'bgp-malformed-hard-reset.pcap', 'bgp-orf.pcapng', 'bgp-ovs.pcapng',
  'bgp-role.pcapng', 'bgp-rt-prefix.pcap', 'bgp-shutdown-communication.pcapng',
  'bgp-shutdown-msg-variations.pcap', 'bgp-ub.pcap', 'bgp_mp_reach_nlri-oobr.pcap',
  'bgp_mvpn_6_and_7_oobr.pcap', 'bgp_notification_rr_msg_error.pcap', 'bgp_pmsi_tunnel-oobr.pcap',
  'bgp_vpn_attrset.pcap', 'bgp_vpn_rt-oobr.pcap', 'bgpsec_invalid_signature_block_length.pcap',
  'bigtcp-ipv6-hbh.pcap', 'dns_tcp.pcap', 'dns_tcp_8053.pcap', 'geneve-gcp.pcap', 'geneve.pcap',
  'gso-ipv4-geneve-ipv4.pcap', 'gso-ipv4-geneve-ipv6.pcap', 'gso-ipv4-vxlan-ipv4.pcap',
  'gso-ipv4-vxlan-ipv6.pcap', 'gso-ipv4.pcap', 'gso-ipv6-geneve-ipv4.pcap', 'gso-ipv6-geneve-ipv6.pcap',
  'gso-ipv6-vxlan-ipv4.pcap', 'gso-ipv6-vxlan-ipv6.pcap', 'gso-ipv6.pcap', 'heapoverflow-tcp_print.pcap',
  'hoobr_nfs_printfh.pcap', 'ipoib.pcap', 'ipv4_tcp_http_xml.pcap', 'kday2.pcap', 'kday3.pcap', 'kday4.pcap',
  'kday5.pcap', 'kday7.pcap', 'kday8.pcap', 'ldp-common-session.pcap', 'lspping-fec-ldp.pcap',
  'mpbgp-linklocal-nexthop.pcap', 'mptcp-aa-echo.pcap', 'mptcp-aa-v1.pcap', 'mptcp-dss-oobr.pcap',
  'mptcp-fclose.pcap', 'mptcp-tcprst.pcap', 'mptcp-v0.pcap', 'mptcp-v1.pcap', 'nfs-seg-fault-1.pcapng',
  'nfs-write-verf-cookie.pcapng', 'of10_7050q.pcapng', 'of10_7050sx_bsn-oobr.pcap', 'of10_7050sx_bsn.pcap',
  'of10_inv_OFPST_FLOW.pcap', 'of10_p3295.pcap', 'of10_pf5240.pcap', 'of10_s4810.pcap',
  'of13_ericsson.pcapng', 'pptp.pcap', 'print-flags.pcap', 'resp_1_benchmark.pcap', 'resp_2_inline.pcap',
  'resp_3_malicious.pcap', 'resp_4_infiniteloop.pcapng', 'rpki-rtr-oobr.pcap', 'scps_invalid.pcap',
  'smb_data_print-oobr.pcapng', 'smb_data_print-segv.pcap', 'ssh.pcap', 'tcp-auth-heapoverflow.pcap',
  'tcp-handshake-nano.pcap', 'tcp_eight_lowest_weight_flags_set.pcap', 'tcp_rst_data-trunc.pcap',
  'tcp_rst_data.pcap', 'tcp_rst_diag_payload-trunc.pcap', 'tcp_rst_diag_payload.pcap',
  'telnet-iac-check-oobr.pcap', 'tfo-5c1fa7f9ae91.pcap', 'timestamp_invalid_micro.pcap',
  'timestamp_invalid_nano.pcap', 'tok2str-oobr-1.pcap', 'unaligned-nfs-1.pcap', 'whois.pcap',
  'zmtp1-inf-loop-1.pcapng', 'zmtp1.pcap',
];

function tcpdump(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tcpdump', ['-#', '-nr', file], { maxBuffer: 64 << 20, timeout: 30_000 }, (err, stdout) => {
      if (err) reject(err); else resolve(stdout);
    });
  });
}

/** Run `fn` over `items` with at most `limit` running at once. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const dir = sharedCorpus('tcpdump-tests');
const MISSING = 'tcpdump test corpus not found: ../shared/corpus/tcpdump-tests beside the repository, or set RSTLAB_TCPDUMP_CORPUS';

test('tcpdump corpus: decodeFrame never throws and finds exactly tcpdump\'s RST frames', { skip: skipOutsideCi(dir === null ? MISSING : false) }, async () => {
  assert.ok(dir !== null, MISSING);
  const files = readdirSync(dir).sort();
  assert.ok(files.length > 100, `corpus at ${dir} looks incomplete (${files.length} files)`);
  for (const f of TCPDUMP_TCP_FILES) assert.ok(files.includes(f), `precomputed TCP file ${f} missing from the corpus`);

  const ours = new Map<string, { rst: number[]; tcp: number }>();
  for (const f of files) {
    const rst: number[] = [];
    let tcp = 0;
    await readCapture(join(dir, f), {
      packet(p) {
        const d = decodeFrame(p.linkType, p.data, p.origLen);
        if (d.kind === 'tcp') {
          tcp += 1;
          if (d.tcp.rst) rst.push(p.frame);
          // Every getter is readable on a decoded segment.
          void d.ip.src; void d.ip.dst; d.tcp.options(); void d.tcp.payload.length;
        }
      },
    }).catch((err: unknown) => {
      // tcpdump reads every one of these files to its end: a file-level failure is ours.
      throw new Error(`${f}: ${String(err)}`);
    });
    ours.set(f, { rst, tcp });
  }

  const toCheck = files.filter((f) => TCPDUMP_TCP_FILES.includes(f) || ours.get(f)!.tcp > 0);
  let rstFiles = 0;
  const mismatches: string[] = [];
  await pool(toCheck, 2, async (f) => {
    const text = await tcpdump(join(dir, f));
    const want = tcpdumpRstFrames(text);
    const got = ours.get(f)!.rst;
    if (want.length > 0) rstFiles += 1;
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${f}: rstlab ${JSON.stringify(got)}, tcpdump ${JSON.stringify(want)}`);
    if (!TCPDUMP_TCP_FILES.includes(f) && tcpdumpTcpFlags(text).size > 0) {
      mismatches.push(`${f}: tcpdump prints TCP but the file is not in TCPDUMP_TCP_FILES`);
    }
  });
  assert.deepEqual(mismatches, []);
  // The corpus README: 13 files carry RST segments. If this drops, the oracle parser broke.
  assert.equal(rstFiles, 13);
});
