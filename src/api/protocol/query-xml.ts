import type { MemberRef, ServiceModel } from './service-model.js';

/**
 * The AWS Query protocol's answers: XML written from the model's output shape —
 * `<XResponse xmlns="…"><XResult>…</XResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></XResponse>`,
 * members in model order, lists as `<member>` elements (or repeated when flattened), maps as `<entry><key/><value/></entry>`,
 * timestamps ISO 8601, absent and unknown members left out — and its errors.
 *
 * Written by hand rather than with fast-xml-parser's XMLBuilder: the model walk that decides element names, list
 * members and order is the whole work either way, and the builder would only add an intermediate object tree per
 * answer (and its own escaping options to get right) on top of it. The parser is still what the tests read with.
 */
export class QueryXmlSerializer {
  private readonly namespace: string;

  constructor(private readonly model: ServiceModel) {
    this.namespace = model.metadata.xmlNamespace ?? '';
  }

  /** The answer to `operation` with `output` (its output structure; ignored when the operation has none). */
  response(operation: string, output: object | undefined, requestId: string): string {
    const op = this.model.operations[operation];
    let xml = `<${operation}Response xmlns="${escape(this.namespace)}">`;
    if (op?.output) {
      const wrapper = op.output.resultWrapper ?? `${operation}Result`;
      xml += `<${wrapper}>${this.members(op.output.shape, output ?? {})}</${wrapper}>`;
    }
    return `${xml}<ResponseMetadata><RequestId>${escape(requestId)}</RequestId></ResponseMetadata></${operation}Response>`;
  }

  /** The Query error shape; `fault` is Sender for the client's errors, Receiver for the server's. */
  error(code: string, message: string, fault: 'Sender' | 'Receiver', requestId: string): string {
    return (
      `<ErrorResponse xmlns="${escape(this.namespace)}"><Error><Type>${fault}</Type><Code>${escape(code)}</Code>` +
      `<Message>${escape(message)}</Message></Error><RequestId>${escape(requestId)}</RequestId></ErrorResponse>`
    );
  }

  private members(shapeName: string, value: object): string {
    const shape = this.model.shapes[shapeName];
    if (shape?.type !== 'structure') return '';
    const record = value as Record<string, unknown>;
    let xml = '';
    for (const [member, ref] of Object.entries(shape.members)) {
      const v = Object.hasOwn(record, member) ? record[member] : undefined;
      if (v === undefined || v === null) continue;
      xml += this.element(ref.locationName ?? member, ref, v);
    }
    return xml;
  }

  private element(name: string, ref: MemberRef, value: unknown): string {
    const shape = this.model.shapes[ref.shape];
    if (!shape) return '';
    switch (shape.type) {
      case 'structure':
        return typeof value === 'object' ? `<${name}>${this.members(ref.shape, value as object)}</${name}>` : '';
      case 'list': {
        if (!Array.isArray(value)) return '';
        const flattened = shape.flattened === true || ref.flattened === true;
        const memberName = shape.member.locationName ?? (flattened ? name : 'member');
        let items = '';
        for (const item of value) if (item !== undefined && item !== null) items += this.element(memberName, shape.member, item);
        return flattened ? items : `<${name}>${items}</${name}>`;
      }
      case 'map': {
        if (typeof value !== 'object') return '';
        const keyName = shape.key.locationName ?? 'key';
        const valueName = shape.value.locationName ?? 'value';
        // A flattened map (SQS's) repeats its own element per entry: `<Attribute><Name/><Value/></Attribute>`.
        const flattened = ref.flattened === true;
        let entries = '';
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === undefined || v === null) continue;
          const pair = `${this.element(keyName, shape.key, k)}${this.element(valueName, shape.value, v)}`;
          entries += flattened ? `<${name}>${pair}</${name}>` : `<entry>${pair}</entry>`;
        }
        return flattened ? entries : `<${name}>${entries}</${name}>`;
      }
      case 'timestamp':
        return `<${name}>${isoTimestamp(value)}</${name}>`;
      case 'blob':
        return `<${name}>${Buffer.isBuffer(value) ? value.toString('base64') : escape(String(value))}</${name}>`;
      default:
        return `<${name}>${escape(String(value))}</${name}>`;
    }
  }
}

/** Epoch seconds (how berth keeps timestamps) or a Date, as `2026-01-02T03:04:05Z`, IAM's second precision. */
export function isoTimestamp(value: unknown): string {
  const date = value instanceof Date ? value : new Date(Number(value) * 1000);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

/** Text safe in an element or a double-quoted attribute. */
export function escape(text: string): string {
  return /[&<>"'\r]/.test(text) ? text.replace(/[&<>"'\r]/g, (c) => ENTITIES[c]!) : text;
}
