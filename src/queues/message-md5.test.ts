import { describe, expect, it } from 'vitest';
import { md5OfAttributes, md5OfBody } from './message-md5.js';

describe('message MD5s', () => {
  it('MD5OfMessageBody is the MD5 of the UTF-8 body', () => {
    expect(md5OfBody('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
    // UTF-8 bytes (c3 a9), not UTF-16 code units.
    expect(md5OfBody('é')).toBe('66ddcd97cfdeabb2f6fb8a999b4bc76f');
  });

  // Vectors published with other SQS implementations' tests (values AWS returned for these attributes).
  it.each([
    [{ SellerName: { DataType: 'String', StringValue: 'Example Store' } }, 'cd28f3b68aeee4b2eac9c66f2f694b58'],
    [{ timestamp: { DataType: 'Number', StringValue: '1493147359900' } }, '235c5c510d26fb653d073faed50ae77c'],
    [
      { ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } },
      'd21ae90c49061e927f57df5f5d72be1f',
    ],
  ])('MD5OfMessageAttributes of %j', (attributes, expected) => {
    expect(md5OfAttributes(attributes)).toBe(expected);
  });

  it('sorts by name, marks binary values with transport byte 2, and leaves no attributes undefined', () => {
    const a = { b: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2) }, a: { DataType: 'String.custom', StringValue: 'x' } };
    const b = { a: { DataType: 'String.custom', StringValue: 'x' }, b: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2) } };
    expect(md5OfAttributes(a)).toBe(md5OfAttributes(b));
    expect(md5OfAttributes({ b: { DataType: 'Binary', BinaryValue: Uint8Array.of(49) } })).not.toBe(md5OfAttributes({ b: { DataType: 'String', StringValue: '1' } }));
    expect(md5OfAttributes({})).toBeUndefined();
    expect(md5OfAttributes(undefined)).toBeUndefined();
  });
});
