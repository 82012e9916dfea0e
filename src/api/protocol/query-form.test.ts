import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../model/errors.js';
import { decodeQueryInput, parseForm, queryValidationError } from './query-form.js';
import { loadServiceModel, type ServiceModel } from './service-model.js';
import { ShapeValidator } from './shape-validator.js';

const iam = loadServiceModel('iam-2010-05-08.json');
const sts = loadServiceModel('sts-2011-06-15.json');

/** A small model with every shape kind the codec handles, including the XML names IAM does not use. */
const model: ServiceModel = {
  metadata: { endpointPrefix: 'test', protocol: 'query', apiVersion: '2020-01-01', xmlNamespace: 'urn:test' },
  operations: { Op: { name: 'Op', input: { shape: 'In' } } },
  shapes: {
    In: {
      type: 'structure',
      required: ['Name'],
      members: {
        Name: { shape: 'Str' },
        Count: { shape: 'Int' },
        Ratio: { shape: 'Dbl' },
        On: { shape: 'Bool' },
        At: { shape: 'Time' },
        Items: { shape: 'Items' },
        Flat: { shape: 'Flat', locationName: 'Flat' },
        Attrs: { shape: 'Attrs' },
        Nested: { shape: 'Nested' },
      },
    },
    Nested: { type: 'structure', members: { Inner: { shape: 'Str' }, Deeper: { shape: 'Nested' } } },
    Items: { type: 'list', member: { shape: 'Item' } },
    Item: { type: 'structure', members: { Key: { shape: 'Str' }, Value: { shape: 'Str' } } },
    Flat: { type: 'list', member: { shape: 'Str' }, flattened: true },
    Attrs: { type: 'map', key: { shape: 'Str' }, value: { shape: 'Str' } },
    Str: { type: 'string' },
    Int: { type: 'integer' },
    Dbl: { type: 'double' },
    Bool: { type: 'boolean' },
    Time: { type: 'timestamp' },
  },
};

const decode = (body: string, m = model, shape = 'In') => decodeQueryInput(m, shape, parseForm(body));

describe('decoding a form-encoded Query request into the input structure', () => {
  it('types scalars by their shapes and decodes + and percent escapes', () => {
    expect(decode('Action=Op&Version=2020-01-01&Name=a+b%2Fc&Count=-3&Ratio=0.5&On=true&At=2024-01-02T03%3A04%3A05Z')).toEqual({
      Name: 'a b/c',
      Count: -3,
      Ratio: 0.5,
      On: true,
      At: Date.UTC(2024, 0, 2, 3, 4, 5) / 1000,
    });
  });

  it('builds lists from member.N in index order, flattened lists from Name.N, maps from entry.N.key/value', () => {
    const input = decode(
      'Name=x&Items.member.2.Key=b&Items.member.1.Key=a&Items.member.1.Value=1&Items.member.10.Key=j&Flat.2=y&Flat.1=x&Attrs.entry.1.key=k&Attrs.entry.1.value=v&Attrs.entry.2.key=constructor&Attrs.entry.2.value=w',
    );
    expect(input.Items).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b' }, { Key: 'j' }]);
    expect(input.Flat).toEqual(['x', 'y']);
    expect(input.Attrs).toEqual({ k: 'v', constructor: 'w' });
    expect(Object.getPrototypeOf(input.Attrs)).toBe(Object.prototype);
  });

  it('decodes a list of 1,000 structures (a full PutMetricData) item by item, whatever the order of the names', () => {
    const names = Array.from({ length: 1000 }, (_, i) => [`Items.member.${i + 1}.Key=k${i}`, `Items.member.${i + 1}.Value=v${i}`]).flat().reverse();
    const input = decode(`Name=x&${names.join('&')}`);
    expect(input.Items).toEqual(Array.from({ length: 1000 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` })));
  });

  it('reads nested structures as A.B, an empty list as the bare name, and ignores names the model does not know', () => {
    expect(decode('Name=x&Nested.Inner=i&Nested.Deeper.Inner=j&Items=&Unknown=1&Nested.Bogus=2')).toEqual({
      Name: 'x',
      Nested: { Inner: 'i', Deeper: { Inner: 'j' } },
      Items: [],
    });
  });

  it('refuses scalars that are not of their type, naming the field', () => {
    for (const [body, field] of [
      ['Name=x&Count=1.5', 'count'],
      ['Name=x&Count=abc', 'count'],
      ['Name=x&On=yes', 'on'],
      ['Name=x&At=not-a-date', 'at'],
      ['Name=x&Ratio=NaN', 'ratio'],
    ] as const) {
      const error = (() => {
        try {
          decode(body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, body).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).type).toBe('ValidationError');
      expect((error as ServiceError).message).toContain(`at '${field}'`);
    }
  });

  it('refuses nesting deeper than any model needs', () => {
    const deep = `Name=x&Nested${'.Deeper'.repeat(30)}.Inner=1`;
    expect(() => decode(deep)).toThrow(/nested too deeply/);
  });

  it('decodes IAM and STS requests as the SDKs send them', () => {
    expect(decode('Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F&Tags.member.1.Key=k&Tags.member.1.Value=v', iam, 'CreateUserRequest')).toEqual({
      UserName: 'alice',
      Path: '/team/',
      Tags: [{ Key: 'k', Value: 'v' }],
    });
    expect(decode('Action=AssumeRole&RoleArn=arn&RoleSessionName=s&DurationSeconds=900&PolicyArns.member.1.arn=a', sts, 'AssumeRoleRequest')).toEqual({
      RoleArn: 'arn',
      RoleSessionName: 's',
      DurationSeconds: 900,
      PolicyArns: [{ arn: 'a' }],
    });
  });
});

describe('validating against the model with IAM wording', () => {
  const validator = new ShapeValidator(iam, 'input', queryValidationError);
  const refusal = (shape: string, body: string) => {
    try {
      validator.check(shape, decode(body, iam, shape));
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error('accepted');
  };

  it('answers ValidationError in the words IAM uses', () => {
    expect(refusal('CreateUserRequest', 'Path=/').message).toBe("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null");
    expect(refusal('CreateUserRequest', 'UserName=a%20b').message).toBe(
      "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
    expect(refusal('CreateUserRequest', `UserName=${'a'.repeat(65)}`).message).toContain('Member must have length less than or equal to 64');
    expect(refusal('UpdateAccessKeyRequest', 'AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Paused').message).toContain('Member must satisfy enum value set: [Active, Inactive, Expired]');
    expect(refusal('CreateRoleRequest', 'RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=60').message).toContain(
      "at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
    );
    expect(refusal('CreateUserRequest', 'UserName=a&Tags.member.1.Value=v').message).toContain("Value null at 'tags.1.member.key'");
    for (const e of [refusal('CreateUserRequest', 'Path=/')]) expect(e.type).toBe('ValidationError');
  });
});
