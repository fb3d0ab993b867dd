import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { canConnect } from '../../src/testenv/proc.js';
import {
  parseExposition,
  startPushgateway,
  type Pushgateway,
} from '../../src/testenv/pushgateway.js';

const started: Pushgateway[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.stop();
});

describe('test pushgateway', () => {
  it('runs the Debian binary on a private loopback port with its own storage dir, and stops cleanly', async () => {
    const a = await startPushgateway();
    const b = await startPushgateway();
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
    expect(a.url).toBe(`http://127.0.0.1:${a.port}`);
    expect(await a.scrape()).toContain('pushgateway_build_info');

    const put = await fetch(`${a.url}/metrics/job/t`, {
      method: 'PUT',
      body: 'x_total{a="1"} 3\n',
    });
    expect(put.status).toBe(200);
    expect((await a.samples('x_total')).map((s) => [s.labels, s.value])).toEqual([
      [{ a: '1', instance: '', job: 't' }, 3],
    ]);
    expect(await b.samples('x_total')).toEqual([]);

    await a.stop();
    expect(await canConnect('127.0.0.1', a.port)).toBe(false);
    expect(existsSync(a.dir)).toBe(false);
  });

  it('parses label escapes, infinities and timestamps of the text format', () => {
    const text = [
      '# HELP m help',
      'm{a="x\\"y",b="line\\nnext"} 1.5',
      'h_bucket{le="+Inf"} 4',
      'neg -Inf',
      'ts 7 1700000000000',
    ].join('\n');
    expect(parseExposition(text)).toEqual([
      { name: 'm', labels: { a: 'x"y', b: 'line\nnext' }, value: 1.5 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'neg', labels: {}, value: -Infinity },
      { name: 'ts', labels: {}, value: 7 },
    ]);
  });
});
