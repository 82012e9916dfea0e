import { describe, expect, it } from 'vitest';
import { matchesPattern } from './match.js';
import { parsePattern, PatternError } from './pattern.js';

const matches = (pattern: object, event: object) => matchesPattern(parsePattern(JSON.stringify(pattern)), event);

/** The example events of the EventBridge user guide ("Event patterns", "Content filtering", "null values"). */
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};
const nullEvent = {
  version: '0',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};
const withDetail = (detail: object) => ({ ...ec2Event, detail });

describe('event patterns: the documentation examples', () => {
  const table: Array<[string, object, object, boolean]> = [
    ['source, detail-type and state', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } }, ec2Event, true],
    ['another state', { source: ['aws.ec2'], detail: { state: ['running', 'pending'] } }, ec2Event, false],
    ['any value of a list', { detail: { state: ['running', 'terminated'] } }, ec2Event, true],
    ['a field the event lacks', { detail: { 'instance-type': ['t2.micro'] } }, ec2Event, false],
    ['an array field matches one element', { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0', 'other'] }, ec2Event, true],
    ['empty string', { detail: { eventVersion: [''] } }, nullEvent, true],
    ['null', { detail: { responseElements: [null] } }, nullEvent, true],
    ['empty string is not null', { detail: { responseElements: [''] } }, nullEvent, false],
    ['null is not the empty string', { detail: { eventVersion: [null] } }, nullEvent, false],
    ['prefix', { time: [{ prefix: '2017-12-22' }] }, ec2Event, true],
    ['prefix miss', { time: [{ prefix: '2017-10-02' }] }, ec2Event, false],
    ['prefix equals-ignore-case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, ec2Event, true],
    ['suffix', { detail: { 'instance-id': [{ suffix: 'def0' }] } }, ec2Event, true],
    ['suffix equals-ignore-case', { detail: { 'instance-id': [{ suffix: { 'equals-ignore-case': 'DEF0' } }] } }, ec2Event, true],
    ['suffix .png', { detail: { FileName: [{ suffix: '.png' }] } }, withDetail({ FileName: 'photo.jpg' }), false],
    ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, ec2Event, true],
    ['wildcard', { detail: { eventSourceARN: [{ wildcard: 'arn:aws:s3:::dir/*.png' }] } }, withDetail({ eventSourceARN: 'arn:aws:s3:::dir/a/b.png' }), true],
    ['wildcard miss', { detail: { eventSourceARN: [{ wildcard: 'arn:aws:s3:::dir/*.png' }] } }, withDetail({ eventSourceARN: 'arn:aws:s3:::dir/a.jpg' }), false],
    ['wildcard escaped star', { detail: { name: [{ wildcard: 'a\\*b' }] } }, withDetail({ name: 'a*b' }), true],
    ['wildcard escaped star is literal', { detail: { name: [{ wildcard: 'a\\*b' }] } }, withDetail({ name: 'axb' }), false],
    ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2Event, true],
    ['anything-but the value', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, ec2Event, false],
    ['anything-but a number', { detail: { x: [{ 'anything-but': 100 }] } }, withDetail({ x: 101 }), true],
    ['anything-but the number', { detail: { x: [{ 'anything-but': [100, 200] }] } }, withDetail({ x: 200 }), false],
    ['anything-but needs the field', { detail: { absent: [{ 'anything-but': 'x' }] } }, ec2Event, false],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2Event, true],
    ['anything-but prefix excludes', { detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, ec2Event, false],
    ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, withDetail({ FileName: 'a.txt' }), false],
    ['anything-but equals-ignore-case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED', 'Stopped'] } }] } }, ec2Event, false],
    ['anything-but wildcard', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ FilePath: '/usr/bin/x' }), true],
    ['anything-but wildcard excludes', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ FilePath: '/usr/lib/x' }), false],
    ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, withDetail({ 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 }), true],
    ['numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 5.5 }), false],
    ['numeric on a string', { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, withDetail({ 'c-count': '3' }), false],
    ['exact number equals another spelling', { detail: { n: [3.0] } }, withDetail({ n: 3 }), true],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, withDetail({ 'source-ip': '10.0.0.255' }), true],
    ['cidr miss', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, withDetail({ 'source-ip': '10.0.1.0' }), false],
    ['cidr IPv6', { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } }, withDetail({ 'source-ip': '2001:db8:1::5' }), true],
    ['cidr IPv6 miss', { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } }, withDetail({ 'source-ip': '2001:db9::5' }), false],
    ['exists true', { detail: { state: [{ exists: true }] } }, ec2Event, true],
    ['exists false', { detail: { state: [{ exists: false }] } }, ec2Event, false],
    ['exists false on a missing field', { detail: { 'instance-type': [{ exists: false }] } }, ec2Event, true],
    ['exists true on null', { detail: { responseElements: [{ exists: true }] } }, nullEvent, true],
    ['exists false on an empty array', { resources: [{ exists: false }] }, nullEvent, true],
    ['exists true on an object is false (leaf nodes only)', { detail: [{ exists: true }] }, ec2Event, false],
    ['$or of two fields', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, withDetail({ 'c-count': 9, 'd-count': 3 }), true],
    ['$or neither', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, withDetail({ 'c-count': 9, 'd-count': 30 }), false],
    ['$or at the top with fields', { source: ['aws.ec2'], $or: [{ 'detail-type': ['nope'] }, { detail: { state: ['terminated'] } }] }, ec2Event, true],
    ['nested $or', { detail: { $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: ['3'] }] }] } }, withDetail({ c: '3' }), true],
    ['array of objects: one element matches all', { detail: { containers: { exitCode: [{ 'anything-but': 0 }] } } }, withDetail({ containers: [{ exitCode: 0 }, { exitCode: 2 }] }), true],
    ['array of objects: all zero', { detail: { containers: { exitCode: [{ 'anything-but': 0 }] } } }, withDetail({ containers: [{ exitCode: 0 }] }), false],
    ['array consistency', { detail: { c: { a: ['1'], b: ['2'] } } }, withDetail({ c: [{ a: '1', b: '3' }, { a: '3', b: '2' }] }), false],
    ['array consistency, same element', { detail: { c: { a: ['1'], b: ['2'] } } }, withDetail({ c: [{ a: '3' }, { a: '1', b: '2' }] }), true],
    ['a leaf on an object field', { detail: ['terminated'] }, ec2Event, false],
    ['booleans are exact values', { detail: { ok: [true] } }, withDetail({ ok: true }), true],
    ['true is not "true"', { detail: { ok: ['true'] } }, withDetail({ ok: true }), false],
  ];
  it.each(table)('%s', (_name, pattern, event, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe('invalid patterns', () => {
  const table: Array<[string, string, RegExp]> = [
    ['not JSON', '{"source": ', /Invalid JSON/],
    ['not an object', '["aws.ec2"]', /Filter is not an object/],
    ['a scalar leaf', '{"source": "aws.ec2"}', /"source" must be an object or an array/],
    ['an empty object', '{"source": ["a"], "detail": {}}', /Empty objects are not allowed/],
    ['an empty array', '{"source": []}', /Empty arrays are not allowed/],
    ['a nested array', '{"source": [["a"]]}', /Match value must be String, number, true, false, or null/],
    ['an unknown filter', '{"source": [{"contains": "a"}]}', /Unrecognized match type contains/],
    ['two keys', '{"source": [{"prefix": "a", "suffix": "b"}]}', /Only one key allowed/],
    ['prefix not a string', '{"source": [{"prefix": 1}]}', /prefix match pattern must be a string/],
    ['exists not boolean', '{"source": [{"exists": "yes"}]}', /exists match pattern must be either true or false/],
    ['numeric not an array', '{"n": [{"numeric": 5}]}', /Value of numeric must be an array/],
    ['numeric bad operator', '{"n": [{"numeric": ["!=", 5]}]}', /Unrecognized numeric range operator/],
    ['numeric bad value', '{"n": [{"numeric": [">", "5"]}]}', /Value of > must be numeric/],
    ['numeric upside-down range', '{"n": [{"numeric": [">", 10, "<", 5]}]}', /Top of range must be greater than bottom/],
    ['anything-but null', '{"n": [{"anything-but": [null]}]}', /Inside anything-but list, null is not supported/],
    ['anything-but boolean', '{"n": [{"anything-but": true}]}', /Value of anything-but must be an array or single string\/number value/],
    ['anything-but unknown', '{"n": [{"anything-but": {"numeric": [">", 1]}}]}', /Unsupported anything-but pattern/],
    ['wildcard consecutive stars', '{"n": [{"wildcard": "a**b"}]}', /Consecutive wildcard characters at pos 2/],
    ['wildcard bad escape', '{"n": [{"wildcard": "a\\\\b"}]}', /Invalid escape character at pos 1/],
    ['cidr without mask', '{"ip": [{"cidr": "10.0.0.0"}]}', /Malformed CIDR/],
    ['cidr bad address', '{"ip": [{"cidr": "10.0.0.256/24"}]}', /Nonstandard IP address/],
    ['cidr mask too wide', '{"ip": [{"cidr": "10.0.0.0/33"}]}', /mask bits/],
    ['$or not an array', '{"$or": {"a": ["b"]}}', /"\$or" must be an array/],
    ['$or of one', '{"$or": [{"a": ["b"]}]}', /at least 2/],
  ];
  it.each(table)('%s', (_name, text, message) => {
    expect(() => parsePattern(text)).toThrow(PatternError);
    expect(() => parsePattern(text)).toThrow(message);
  });
});
