import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { QueryXmlSerializer, escape, isoTimestamp } from './query-xml.js';
import { loadServiceModel, type ServiceModel } from './service-model.js';

const iam = new QueryXmlSerializer(loadServiceModel('iam-2010-05-08.json'));
const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'member' });

describe('XML answers written from the output shape', () => {
  it('wraps the result and the request id as IAM does, members in model order, lists as <member>', () => {
    const xml = iam.response(
      'ListUsers',
      {
        IsTruncated: true,
        Marker: 'm&<>',
        Users: [
          { UserName: 'alice', Path: '/', UserId: 'AIDA1', Arn: 'arn:aws:iam::1:user/alice', CreateDate: 1_700_000_000, Invented: 'x' },
          { UserName: 'bob', Path: '/', UserId: 'AIDA2', Arn: 'arn:aws:iam::1:user/bob', CreateDate: 1_700_000_001, PasswordLastUsed: undefined },
        ],
      },
      'req-1',
    );
    expect(xml.startsWith('<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users><member><Path>/</Path><UserName>alice</UserName>')).toBe(true);
    expect(xml).toContain('<CreateDate>2023-11-14T22:13:20Z</CreateDate>');
    expect(xml).not.toContain('Invented');
    expect(xml).not.toContain('PasswordLastUsed');
    expect(xml.endsWith('</ListUsersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>')).toBe(true);
    const parsed = parser.parse(xml);
    const result = parsed.ListUsersResponse.ListUsersResult;
    expect(result.Users.member.map((u: { UserName: string }) => u.UserName)).toEqual(['alice', 'bob']);
    expect(result.IsTruncated).toBe('true');
    expect(result.Marker).toBe('m&<>');
  });

  it('answers an operation without output with the metadata alone', () => {
    expect(iam.response('DeleteUser', {}, 'r')).toBe(
      '<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>',
    );
  });

  it('writes maps as entries and flattened lists as repeated elements', () => {
    const model: ServiceModel = {
      metadata: { endpointPrefix: 't', protocol: 'query', xmlNamespace: 'urn:t' },
      operations: { Op: { name: 'Op', output: { shape: 'Out', resultWrapper: 'OpResult' } } },
      shapes: {
        Out: { type: 'structure', members: { M: { shape: 'M' }, F: { shape: 'F' }, B: { shape: 'B' } } },
        M: { type: 'map', key: { shape: 'S' }, value: { shape: 'S' } },
        F: { type: 'list', member: { shape: 'S', locationName: 'item' }, flattened: true },
        B: { type: 'blob' },
        S: { type: 'string' },
      },
    };
    const xml = new QueryXmlSerializer(model).response('Op', { M: { a: '1' }, F: ['x', 'y'], B: Buffer.from('hi') }, 'r');
    expect(xml).toContain('<OpResult><M><entry><key>a</key><value>1</value></entry></M><item>x</item><item>y</item><B>aGk=</B></OpResult>');
  });

  it('writes the Query error shape', () => {
    const xml = iam.error('NoSuchEntity', 'The user with name <x> cannot be found.', 'Sender', 'r');
    expect(parser.parse(xml)).toEqual({
      ErrorResponse: {
        '@_xmlns': 'https://iam.amazonaws.com/doc/2010-05-08/',
        Error: { Type: 'Sender', Code: 'NoSuchEntity', Message: 'The user with name <x> cannot be found.' },
        RequestId: 'r',
      },
    });
  });

  it('escapes markup and writes timestamps at second precision', () => {
    expect(escape(`a<b>&"c"'\r`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;&#13;');
    expect(isoTimestamp(0)).toBe('1970-01-01T00:00:00Z');
    expect(isoTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe('2026-01-02T03:04:05Z');
  });
});
