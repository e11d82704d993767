import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readCapture } from '../src/capture/reader.js';
import { decodeFrame } from '../src/wire/decode.js';
import { SHAPES, writeShape } from './shapes.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-shapes-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const shape of SHAPES) {
  test(`${shape}: every frame is TCP, in time order, as many as the writer says; the file reaches its target`, async () => {
    const file = path.join(dir, `${shape}.pcap`);
    const target = 512 * 1024; // storm and concurrent write their opening and closing whatever the target
    const info = await writeShape(shape, file, target);
    assert.equal(statSync(file).size, info.bytes);
    assert.ok(info.bytes >= target);
    let packets = 0;
    let last = 0;
    let rsts = 0;
    await readCapture(file, {
      packet(p) {
        packets++;
        const t = p.tsSec * 1e6 + Math.floor(p.tsNsec / 1000);
        assert.ok(t >= last, `frame ${packets} goes back in time`);
        last = t;
        const d = decodeFrame(p.linkType, p.data, p.origLen);
        assert.equal(d.kind, 'tcp', `frame ${packets}: ${JSON.stringify(d.kind)}`);
        if (d.kind === 'tcp' && (d.tcp.flags & 0x04)) rsts++;
      },
    }, { readAheadMin: Infinity });
    assert.equal(packets, info.packets);
    assert.ok(rsts >= (info.reset ?? 1), `${rsts} RSTs, ${info.reset} reset connections`);
  });
}
