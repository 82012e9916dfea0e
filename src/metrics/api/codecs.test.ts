import { gzipSync } from 'node:zlib';
import { cbor as smithyCbor } from '@smithy/core/cbor';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Decoder, Encoder } from 'cbor-x';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * The three codecs CloudWatch is served in, on the wire: what each puts in headers and bodies (content types,
 * smithy-protocol, CBOR tag-1 timestamps, ISO 8601 in XML, epoch seconds in JSON), how each names an error (Query
 * code in XML; the model's shape in `__type` with the code in x-amzn-query-error), gzip bodies, and malformed input.
 */
const TARGET = 'GraniteServiceVersion20100801';
let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

async function send(path: string, headers: Record<string, string>, body: Buffer, sign = true) {
  const url = new URL(path, api.server.url);
  let all: Record<string, string> = { host: url.host, ...headers };
  if (sign) {
    const signer = new SignatureV4({ credentials: TEST_KEYS, region: TEST_REGION, service: 'monitoring', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    all = (await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: all, body }))).headers;
  }
  const { host: _host, ...sendable } = all;
  const res = await fetch(url, { method: 'POST', headers: sendable, body });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}
const json = (action: string, input: object, extra: Record<string, string> = {}, body?: Buffer) =>
  send('/', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${TARGET}.${action}`, ...extra }, body ?? Buffer.from(JSON.stringify(input)));
const cbor = (action: string, input: object, extra: Record<string, string> = {}, body?: Buffer) =>
  send(`/service/${TARGET}/operation/${action}`, { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor', ...extra }, body ?? Buffer.from(encoder.encode(input)));
const query = (params: Record<string, string>, extra: Record<string, string> = {}, body?: Buffer) =>
  send('/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...extra }, body ?? Buffer.from(new URLSearchParams({ Version: '2010-08-01', ...params }).toString()));

const minute = Math.floor(Date.now() / 60_000) * 60 - 120;

describe('CloudWatch codecs', () => {
  it('JSON 1.0: epoch-second timestamps in and out, its content type', async () => {
    const put = await json('PutMetricData', { Namespace: 'Codec', MetricData: [{ MetricName: 'j', Value: 2, Timestamp: minute + 1 }] });
    expect(put.status).toBe(200);
    expect(put.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    const got = await json('GetMetricStatistics', { Namespace: 'Codec', MetricName: 'j', StartTime: minute, EndTime: minute + 60, Period: 60, Statistics: ['Sum'] });
    expect(JSON.parse(got.body.toString())).toEqual({ Label: 'j', Datapoints: [{ Timestamp: minute, Sum: 2, Unit: 'None' }] });
  });

  it('RPC v2 CBOR: tag-1 timestamps in and out, smithy-protocol and application/cbor', async () => {
    const put = await cbor('PutMetricData', { Namespace: 'Codec', MetricData: [{ MetricName: 'c', Value: 3, Timestamp: new Date((minute + 1) * 1000) }] });
    expect(put.status).toBe(200);
    expect(put.headers.get('smithy-protocol')).toBe('rpc-v2-cbor');
    expect(put.body.length).toBe(0); // PutMetricData has no output
    const got = await cbor('GetMetricStatistics', { Namespace: 'Codec', MetricName: 'c', StartTime: new Date(minute * 1000), EndTime: new Date((minute + 60) * 1000), Period: 60, Statistics: ['Sum'] });
    expect(got.headers.get('content-type')).toBe('application/cbor');
    // Tag 1 (0xc1) before the timestamp: a Date, not a number.
    expect(got.body.includes(Buffer.from([0xc1]))).toBe(true);
    expect(decoder.decode(got.body)).toEqual({ Label: 'c', Datapoints: [{ Timestamp: new Date(minute * 1000), Sum: 3, Unit: 'None' }] });
  });

  it('GetMetricData: timestamps as tag 1 and values as numbers in CBOR (as the AWS SDK decodes them), the same as JSON', async () => {
    const data = [0, 1, 2].map((m) => ({ MetricName: 'gmd', Value: m === 1 ? 2.5 : 7 * m, Timestamp: minute - 600 + m * 60 + 1 }));
    expect((await json('PutMetricData', { Namespace: 'Codec', MetricData: data })).status).toBe(200);
    const query = { MetricDataQueries: [{ Id: 'a', MetricStat: { Metric: { Namespace: 'Codec', MetricName: 'gmd' }, Period: 60, Stat: 'Average' } }, { Id: 'b', Expression: 'a / 3', Label: 'third' }] };
    const range = (start: number, end: number) => ({ StartTime: start, EndTime: end });
    const asJson = JSON.parse((await json('GetMetricData', { ...query, ...range(minute - 600, minute) })).body.toString());
    const t = (m: number) => minute - 600 + m * 60;
    expect(asJson).toEqual({
      MetricDataResults: [
        { Id: 'a', Label: 'gmd', Timestamps: [t(2), t(1), t(0)], Values: [14, 2.5, 0], StatusCode: 'Complete' },
        { Id: 'b', Label: 'third', Timestamps: [t(2), t(1), t(0)], Values: [14 / 3, 2.5 / 3, 0], StatusCode: 'Complete' },
      ],
      Messages: [],
    });
    const got = await cbor('GetMetricData', { ...query, StartTime: new Date((minute - 600) * 1000), EndTime: new Date(minute * 1000) });
    // The SDK's own CBOR reader: each timestamp a tag-1 item holding epoch seconds.
    const sdk = smithyCbor.deserialize(new Uint8Array(got.body)) as { MetricDataResults: { Timestamps: { tag: number; value: number }[]; Values: number[] }[] };
    expect(sdk.MetricDataResults.map((r) => r.Timestamps.map((x) => [x.tag, x.value]))).toEqual([0, 1].map(() => [t(2), t(1), t(0)].map((s) => [1, s])));
    expect(sdk.MetricDataResults.map((r) => r.Values)).toEqual(asJson.MetricDataResults.map((r: { Values: number[] }) => r.Values));
    const decoded = decoder.decode(got.body);
    expect(decoded.MetricDataResults[0].Timestamps).toEqual([t(2), t(1), t(0)].map((s) => new Date(s * 1000)));
    expect({ ...decoded, MetricDataResults: decoded.MetricDataResults.map((r: { Timestamps: Date[] }) => ({ ...r, Timestamps: r.Timestamps.map((d) => d.getTime() / 1000) })) }).toEqual(asJson);
    // Pages, ascending: the second datapoint on, one a page.
    const paged = JSON.parse((await json('GetMetricData', { ...query, ...range(minute - 600, minute), ScanBy: 'TimestampAscending', MaxDatapoints: 1, NextToken: undefined })).body.toString());
    expect(paged.MetricDataResults[0]).toEqual({ Id: 'a', Label: 'gmd', Timestamps: [t(0)], Values: [0], StatusCode: 'PartialData' });
    const next = JSON.parse((await json('GetMetricData', { ...query, ...range(minute - 600, minute), ScanBy: 'TimestampAscending', MaxDatapoints: 1, NextToken: paged.NextToken })).body.toString());
    expect(next.MetricDataResults.map((r: { Timestamps: number[] }) => r.Timestamps)).toEqual([[t(1)], []]);
  });

  it('Query: ISO 8601 timestamps in XML', async () => {
    const put = await query({ Action: 'PutMetricData', Namespace: 'Codec', 'MetricData.member.1.MetricName': 'q', 'MetricData.member.1.Value': '4', 'MetricData.member.1.Timestamp': new Date((minute + 1) * 1000).toISOString() });
    expect(put.status).toBe(200);
    const got = await query({ Action: 'GetMetricStatistics', Namespace: 'Codec', MetricName: 'q', StartTime: new Date(minute * 1000).toISOString(), EndTime: new Date((minute + 60) * 1000).toISOString(), Period: '60', 'Statistics.member.1': 'Sum' });
    expect(got.body.toString()).toContain(`<Datapoints><member><Timestamp>${new Date(minute * 1000).toISOString().replace('.000', '')}</Timestamp><Sum>4</Sum><Unit>None</Unit></member></Datapoints>`);
  });

  it('names errors per protocol: the Query code, or the model shape with the code in x-amzn-query-error', async () => {
    const bad = { Namespace: 'Codec', MetricData: [{ MetricName: 'x', Value: 1, StorageResolution: 5 }] };
    for (const res of [await json('PutMetricData', bad), await cbor('PutMetricData', bad)]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
    }
    expect(JSON.parse((await json('PutMetricData', bad)).body.toString()).__type).toBe('com.amazonaws.cloudwatch#InvalidParameterValueException');
    expect(decoder.decode((await cbor('PutMetricData', bad)).body)).toEqual({
      __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException',
      message: 'The value 5 for parameter MetricData.member.1.StorageResolution is invalid. Valid values are 1 and 60.',
    });
    const xml = (await query({ Action: 'PutMetricData', Namespace: 'Codec', 'MetricData.member.1.Value': '1' })).body.toString();
    expect(xml).toContain('<Code>MissingParameter</Code><Message>The parameter MetricData.member.1.MetricName is required.</Message>');
    // NaN is no CloudWatch value (JSON cannot carry it; Query and CBOR can).
    expect((await query({ Action: 'PutMetricData', Namespace: 'Codec', 'MetricData.member.1.MetricName': 'n', 'MetricData.member.1.Value': 'NaN' })).body.toString()).toContain('<Code>InvalidParameterValue</Code>');
    expect((await cbor('PutMetricData', { Namespace: 'Codec', MetricData: [{ MetricName: 'n', Value: NaN }] })).headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
    // A signature error keeps its common name, with the Query code beside it.
    const unsigned = await send(`/service/${TARGET}/operation/ListMetrics`, { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' }, Buffer.from(encoder.encode({})), false);
    expect(unsigned.status).toBe(403);
    expect(decoder.decode(unsigned.body).__type).toBe('MissingAuthenticationTokenException');
    expect(unsigned.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
  });

  it('CBOR: refuses a body that is not CBOR, a missing smithy-protocol header and an unknown operation', async () => {
    const garbage = await cbor('ListMetrics', {}, {}, Buffer.from([0xff, 0x00, 0x1c]));
    expect(garbage.status).toBe(400);
    expect(decoder.decode(garbage.body).__type).toBe('SerializationException');
    const headerless = await send(`/service/${TARGET}/operation/ListMetrics`, { 'content-type': 'application/cbor' }, Buffer.from(encoder.encode({})));
    expect(decoder.decode(headerless.body).message).toMatch(/smithy-protocol/);
    const unknown = await cbor('LaunchRocket', {});
    expect(decoder.decode(unknown.body).__type).toBe('UnknownOperationException');
    const unsupported = await cbor('GetDashboard', { DashboardName: 'd' });
    expect(decoder.decode(unsupported.body)).toEqual({ __type: 'UnsupportedFeatureException', message: 'berth does not support the GetDashboard action yet.' });
  });

  it('reads gzip bodies in all three protocols, and refuses one that inflates past the limit with 413', async () => {
    const input = { Namespace: 'Codec', MetricData: [{ MetricName: 'gz', Value: 1, Timestamp: minute + 1 }] };
    expect((await json('PutMetricData', input, { 'content-encoding': 'gzip' }, gzipSync(JSON.stringify(input)))).status).toBe(200);
    expect((await cbor('PutMetricData', input, { 'content-encoding': 'gzip' }, gzipSync(encoder.encode({ ...input, MetricData: [{ ...input.MetricData[0], Timestamp: new Date((minute + 1) * 1000) }] })))).status).toBe(200);
    const form = new URLSearchParams({ Action: 'PutMetricData', Version: '2010-08-01', Namespace: 'Codec', 'MetricData.member.1.MetricName': 'gz', 'MetricData.member.1.Value': '1' }).toString();
    expect((await query({}, { 'content-encoding': 'gzip' }, gzipSync(form))).status).toBe(200);
    const got = await json('GetMetricStatistics', { Namespace: 'Codec', MetricName: 'gz', StartTime: minute, EndTime: minute + 600, Period: 600, Statistics: ['SampleCount'] });
    expect(JSON.parse(got.body.toString()).Datapoints[0].SampleCount).toBe(3);
    const bomb = gzipSync(Buffer.alloc(3 * 1024 * 1024, 0x20));
    expect((await json('PutMetricData', {}, { 'content-encoding': 'gzip' }, bomb)).status).toBe(413);
    expect((await json('PutMetricData', {}, { 'content-encoding': 'br' }, Buffer.from('{}'))).status).toBe(400);
  });
  it('large bodies read into reused memory stay each request\'s own, many at once, in all three protocols', async () => {
    // 300 datums a request (over 16 KiB: read into pooled buffers), each request its own metric and values.
    const datums = (name: string, base: number) =>
      Array.from({ length: 300 }, (_, i) => ({ MetricName: name, Dimensions: [{ Name: 'Pad', Value: `v${i % 3}`.padEnd(40, 'x') }], Value: base + (i % 3), Timestamp: minute + 1 }));
    const form = (name: string, base: number) => {
      const params: Record<string, string> = { Action: 'PutMetricData', Namespace: 'Pool' };
      datums(name, base).forEach((d, i) => {
        const at = `MetricData.member.${i + 1}`;
        Object.assign(params, { [`${at}.MetricName`]: d.MetricName, [`${at}.Dimensions.member.1.Name`]: 'Pad', [`${at}.Dimensions.member.1.Value`]: d.Dimensions[0]!.Value, [`${at}.Value`]: String(d.Value), [`${at}.Timestamp`]: new Date(d.Timestamp * 1000).toISOString() });
      });
      return params;
    };
    const rounds = Array.from({ length: 8 }, (_, r) => r);
    const puts = await Promise.all(
      rounds.flatMap((r) => [
        json('PutMetricData', { Namespace: 'Pool', MetricData: datums(`j${r}`, r * 10) }),
        cbor('PutMetricData', { Namespace: 'Pool', MetricData: datums(`c${r}`, r * 10).map((d) => ({ ...d, Timestamp: new Date(d.Timestamp * 1000) })) }),
        query(form(`q${r}`, r * 10)),
      ]),
    );
    expect(puts.map((p) => p.status)).toEqual(puts.map(() => 200));
    for (const r of rounds) {
      for (const name of [`j${r}`, `c${r}`, `q${r}`]) {
        const got = await json('GetMetricStatistics', { Namespace: 'Pool', MetricName: name, Dimensions: [{ Name: 'Pad', Value: 'v1'.padEnd(40, 'x') }], StartTime: minute, EndTime: minute + 60, Period: 60, Statistics: ['Sum', 'SampleCount'] });
        expect(JSON.parse(got.body.toString()).Datapoints).toEqual([{ Timestamp: minute, Sum: 100 * (r * 10 + 1), SampleCount: 100, Unit: 'None' }]);
      }
    }
  });

  it('large GetMetricData answers (written from reused memory, shared timestamps) stay each request\'s own, many at once, in all three protocols', async () => {
    // 12 series × 600 minutes, values per series; series 5 misses minutes 10–19 (its timestamps differ from the others').
    const minutes = 600;
    const start = minute - minutes * 60;
    const value = (s: number, m: number) => s * 1000 + m / 8;
    const missing = (s: number, m: number) => s === 5 && m >= 10 && m < 20;
    const datums = [];
    for (let s = 0; s < 12; s++) for (let m = 0; m < minutes; m++) if (!missing(s, m)) datums.push({ MetricName: 'big', Dimensions: [{ Name: 'S', Value: `s${s}` }], Value: value(s, m), Timestamp: start + m * 60 + 1 });
    for (let i = 0; i < datums.length; i += 1000) expect((await json('PutMetricData', { Namespace: 'Large', MetricData: datums.slice(i, i + 1000) })).status).toBe(200);
    /** Request r asks for series r … r + 7 over its own range, descending. */
    const ask = (r: number) => ({ series: Array.from({ length: 8 }, (_, k) => r + k), from: start + r * 60, to: start + (minutes - r) * 60 });
    const expected = (r: number) => {
      const { series, from, to } = ask(r);
      return series.map((s) => {
        const ms = Array.from({ length: (to - from) / 60 }, (_, i) => (from - start) / 60 + i).filter((m) => !missing(s, m)).reverse();
        return { Id: `m${s}`, Label: 'big', Timestamps: ms.map((m) => start + m * 60), Values: ms.map((m) => value(s, m)), StatusCode: 'Complete' };
      });
    };
    const metricQueries = (r: number) => ask(r).series.map((s) => ({ Id: `m${s}`, MetricStat: { Metric: { Namespace: 'Large', MetricName: 'big', Dimensions: [{ Name: 'S', Value: `s${s}` }] }, Period: 60, Stat: 'Average' } }));
    const form = (r: number) => {
      const params: Record<string, string> = { Action: 'GetMetricData', StartTime: new Date(ask(r).from * 1000).toISOString(), EndTime: new Date(ask(r).to * 1000).toISOString() };
      metricQueries(r).forEach((q, i) => {
        const at = `MetricDataQueries.member.${i + 1}`;
        Object.assign(params, { [`${at}.Id`]: q.Id, [`${at}.MetricStat.Metric.Namespace`]: 'Large', [`${at}.MetricStat.Metric.MetricName`]: 'big', [`${at}.MetricStat.Metric.Dimensions.member.1.Name`]: 'S', [`${at}.MetricStat.Metric.Dimensions.member.1.Value`]: q.MetricStat.Metric.Dimensions[0]!.Value, [`${at}.MetricStat.Period`]: '60', [`${at}.MetricStat.Stat`]: 'Average' });
      });
      return params;
    };
    const rounds = [0, 1, 2, 3];
    const answers = await Promise.all(
      rounds.flatMap((r) => [
        json('GetMetricData', { MetricDataQueries: metricQueries(r), StartTime: ask(r).from, EndTime: ask(r).to }),
        cbor('GetMetricData', { MetricDataQueries: metricQueries(r), StartTime: new Date(ask(r).from * 1000), EndTime: new Date(ask(r).to * 1000) }),
        query(form(r)),
      ]),
    );
    const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'member' });
    for (const r of rounds) {
      const [asJson, asCbor, asXml] = answers.slice(3 * r, 3 * r + 3) as [Awaited<ReturnType<typeof json>>, Awaited<ReturnType<typeof json>>, Awaited<ReturnType<typeof json>>];
      expect(asJson.body.length).toBeGreaterThan(64 * 1024);
      expect(Number(asJson.headers.get('content-length'))).toBe(asJson.body.length);
      expect(JSON.parse(asJson.body.toString())).toEqual({ MetricDataResults: expected(r), Messages: [] });
      // The SDK's own CBOR reader, and cbor-x.
      expect(asCbor.body.length).toBeGreaterThan(64 * 1024);
      const sdk = smithyCbor.deserialize(new Uint8Array(asCbor.body)) as { MetricDataResults: { Id: string; Timestamps: { tag: number; value: number }[]; Values: number[] }[] };
      expect(sdk.MetricDataResults.map((x) => ({ Id: x.Id, Timestamps: x.Timestamps.map((t) => (t.tag === 1 ? t.value : NaN)), Values: x.Values }))).toEqual(expected(r).map((x) => ({ Id: x.Id, Timestamps: x.Timestamps, Values: x.Values })));
      const decoded = decoder.decode(asCbor.body) as { MetricDataResults: { Timestamps: Date[] }[] };
      expect(decoded.MetricDataResults.map((x) => ({ ...x, Timestamps: x.Timestamps.map((d) => d.getTime() / 1000) }))).toEqual(expected(r));
      const results = xml.parse(asXml.body.toString()).GetMetricDataResponse.GetMetricDataResult.MetricDataResults.member as { Id: string; Timestamps: { member: string[] }; Values: { member: string[] } }[];
      expect(results.map((x) => ({ Id: x.Id, Timestamps: x.Timestamps.member.map((t) => Date.parse(t) / 1000), Values: x.Values.member.map(Number) }))).toEqual(expected(r).map((x) => ({ Id: x.Id, Timestamps: x.Timestamps, Values: x.Values })));
    }
  });
});
