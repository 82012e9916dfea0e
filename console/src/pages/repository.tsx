import { DescribeImagesCommand, GetLifecyclePolicyCommand, GetLifecyclePolicyPreviewCommand, StartLifecyclePolicyPreviewCommand, type ImageDetail } from '@aws-sdk/client-ecr';
import { useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { ErrorNote, Loading, PageTitle, Section, Table } from '../components.js';
import { ecrClient } from '../ecr-api.js';
import { usePoll } from '../poll.js';
import { BASE, Link } from '../router.js';
import { useSession } from '../session.js';

/** One repository: its images (digest, tags, size, pushed), and what its lifecycle policy would expire now. */
export default function RepositoryPage({ params }: { params: { repository?: string } }) {
  const repository = params.repository!;
  const { session } = useSession();
  const polled = usePoll(
    async () => {
      const ecr = ecrClient(session);
      const images: ImageDetail[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecr.send(new DescribeImagesCommand({ repositoryName: repository, nextToken }));
        images.push(...(page.imageDetails ?? []));
        nextToken = page.nextToken;
      } while (nextToken && images.length < 1000);
      const policy = await ecr
        .send(new GetLifecyclePolicyCommand({ repositoryName: repository }))
        .then((o) => o.lifecyclePolicyText)
        .catch(() => undefined);
      return { images: images.sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0)), policy };
    },
    [session, repository],
    10_000,
  );
  const data = polled.data;
  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={`${BASE}/registry`}>Registry</Link>}>
        {repository}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read repository ${repository}`} />
      {!data ? (
        polled.error ? null : <Loading what="the images" />
      ) : (
        <>
          <Section title="Images" id="images">
            {data.images.length === 0 ? (
              <p class="muted">No images.</p>
            ) : (
              <Table caption="Images, newest first" head={['Digest', 'Tags', 'Size', 'Pushed']}>
                {data.images.map((i) => (
                  <tr key={i.imageDigest}>
                    <th scope="row">
                      <code>{(i.imageDigest ?? '').slice(0, 19)}</code>
                    </th>
                    <td>{(i.imageTags ?? []).join(', ') || <span class="muted">untagged</span>}</td>
                    <td class="num">{formatBytes(i.imageSizeInBytes ?? 0)}</td>
                    <td>{i.imagePushedAt?.toLocaleString()}</td>
                  </tr>
                ))}
              </Table>
            )}
          </Section>
          <Section title="Lifecycle policy" id="lifecycle">
            {data.policy ? <LifecyclePreview repository={repository} policy={data.policy} /> : <p class="muted">No lifecycle policy.</p>}
          </Section>
        </>
      )}
    </>
  );
}

/** StartLifecyclePolicyPreview, then its result: the images the stored policy would expire now. */
function LifecyclePreview({ repository, policy }: { repository: string; policy: string }) {
  const { session } = useSession();
  const [result, setResult] = useState<{ text: string; expiring: { digest: string; tags: string[]; rule?: number | undefined }[] } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const preview = async () => {
    setBusy(true);
    try {
      const ecr = ecrClient(session);
      await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: repository }));
      const out = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: repository }));
      const expiring = (out.previewResults ?? []).map((r) => ({ digest: r.imageDigest ?? '', tags: r.imageTags ?? [], rule: r.appliedRulePriority }));
      setResult({ text: `${out.status ?? ''}: ${expiring.length} image${expiring.length === 1 ? '' : 's'} would expire.`, expiring });
    } catch (error) {
      const { name, message } = describeError(error);
      setResult({ text: `${name}: ${message}`, expiring: [] });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <pre class="json" tabIndex={0} aria-label="Lifecycle policy">
        {prettyJson(policy)}
      </pre>
      <p>
        <button type="button" disabled={busy} onClick={() => void preview()}>
          Preview what it would expire
        </button>
      </p>
      {result ? (
        <div role="status">
          <p>{result.text}</p>
          <ul>
            {result.expiring.map((e) => (
              <li key={e.digest}>
                <code>{e.digest.slice(0, 19)}</code> {e.tags.join(', ')} {e.rule !== undefined ? `(rule ${e.rule})` : ''}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
