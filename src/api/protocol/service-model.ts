import { readFileSync } from 'node:fs';

/**
 * An AWS service model in botocore's JSON form (the files under `models/`, copied from the AWS models that
 * define each API berth speaks). It is the source of truth for request and response shapes.
 */
export interface ServiceModel {
  readonly metadata: {
    readonly targetPrefix?: string;
    readonly signingName?: string;
    readonly endpointPrefix: string;
    readonly protocol: string;
    readonly jsonVersion?: string;
    /** Query protocol: the `Version` requests carry and the namespace of XML answers. */
    readonly apiVersion?: string;
    readonly xmlNamespace?: string;
  };
  readonly operations: Readonly<Record<string, OperationModel>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

export interface OperationModel {
  readonly name: string;
  readonly input?: { readonly shape: string };
  /** Query protocol: the element the output structure is wrapped in (`CreateUserResult`). */
  readonly output?: { readonly shape: string; readonly resultWrapper?: string };
  /** REST protocols: the operation's method, path template (`/2015-02-01/file-systems/{FileSystemId}`) and status. */
  readonly http?: { readonly method: string; readonly requestUri: string; readonly responseCode?: number };
}

export type Shape =
  | StructureShape
  | { readonly type: 'list'; readonly member: MemberRef; readonly min?: number; readonly max?: number; readonly flattened?: boolean }
  | { readonly type: 'map'; readonly key: MemberRef; readonly value: MemberRef; readonly min?: number; readonly max?: number }
  | {
      readonly type: 'string';
      readonly enum?: readonly string[];
      readonly min?: number;
      readonly max?: number;
      readonly pattern?: string;
    }
  | { readonly type: 'integer' | 'long' | 'float' | 'double'; readonly min?: number; readonly max?: number }
  | { readonly type: 'boolean' | 'timestamp' | 'blob' };

export interface StructureShape {
  readonly type: 'structure';
  readonly required?: readonly string[];
  readonly members: Readonly<Record<string, MemberRef>>;
  readonly exception?: boolean;
  /** A document: any JSON value, with no members in the model. */
  readonly document?: boolean;
}

export interface MemberRef {
  readonly shape: string;
  /** Query/XML protocols: the wire name when it differs from the member's. */
  readonly locationName?: string;
  readonly flattened?: boolean;
  /** REST protocols: where the member travels when not in the body (a path label, the query string, a header). */
  readonly location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
}

const cache = new Map<string, ServiceModel>();

/** Load `models/<file>` from the package root (the same relative place from `src/` and `dist/`). */
export function loadServiceModel(file: string): ServiceModel {
  let model = cache.get(file);
  if (!model) {
    const url = new URL(`../../../models/${file}`, import.meta.url);
    model = JSON.parse(readFileSync(url, 'utf8')) as ServiceModel;
    cache.set(file, model);
  }
  return model;
}
