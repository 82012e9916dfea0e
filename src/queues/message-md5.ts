import { createHash } from 'node:crypto';

/** A message attribute as SendMessage takes it (BinaryValue as bytes) and ReceiveMessage returns it. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

/** MD5OfMessageBody: the MD5 of the body's UTF-8 bytes, hex. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * MD5OfMessageAttributes (and MD5OfMessageSystemAttributes), as SQS computes it and the SDKs that check it recompute
 * it: the attributes sorted by name, each encoded as length-prefixed name, length-prefixed data type, one transport
 * byte (1 for String and Number, 2 for Binary) and the length-prefixed value; lengths are 4-byte big-endian byte
 * counts of the UTF-8 (or binary) bytes. Undefined for no attributes (SQS leaves the member out).
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttribute>> | undefined): string | undefined {
  if (!attributes) return undefined;
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const a = attributes[name]!;
    lengthPrefixed(hash, Buffer.from(name, 'utf8'));
    lengthPrefixed(hash, Buffer.from(a.DataType, 'utf8'));
    if (a.BinaryValue !== undefined && transportOf(a.DataType) === 'Binary') {
      hash.update(Uint8Array.of(2));
      lengthPrefixed(hash, a.BinaryValue);
    } else {
      hash.update(Uint8Array.of(1));
      lengthPrefixed(hash, Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

/** `String.custom` → `String`: the type before the first dot decides how the value travels. */
export function transportOf(dataType: string): string {
  const dot = dataType.indexOf('.');
  return dot === -1 ? dataType : dataType.slice(0, dot);
}

function lengthPrefixed(hash: ReturnType<typeof createHash>, bytes: Uint8Array): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  hash.update(length);
  hash.update(bytes);
}
