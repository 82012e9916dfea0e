import { DescribeRepositoriesCommand, type Repository } from '@aws-sdk/client-ecr';
import { ErrorNote, Loading, PageTitle, Table } from '../components.js';
import { ecrClient } from '../ecr-api.js';
import { usePoll } from '../poll.js';
import { href, Link } from '../router.js';
import { useSession } from '../session.js';

/** berth's registry: its repositories (ECR's DescribeRepositories). */
export default function RepositoriesPage() {
  const { session } = useSession();
  const polled = usePoll(
    async () => {
      const repositories: Repository[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecrClient(session).send(new DescribeRepositoriesCommand({ nextToken }));
        repositories.push(...(page.repositories ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return repositories.sort((a, b) => (a.repositoryName ?? '').localeCompare(b.repositoryName ?? ''));
    },
    [session],
    10_000,
  );
  return (
    <>
      <PageTitle updatedAt={polled.updatedAt}>Registry</PageTitle>
      <ErrorNote error={polled.error} what="list the repositories" />
      {!polled.data ? (
        polled.error ? null : <Loading what="repositories" />
      ) : polled.data.length === 0 ? (
        <p class="muted">No repositories. Push an image (docker, podman or skopeo to this server's address), or CreateRepository.</p>
      ) : (
        <Table caption="Repositories" head={['Repository', 'URI', 'Tag mutability', 'Created']}>
          {polled.data.map((r) => (
            <tr key={r.repositoryArn}>
              <th scope="row">
                <Link href={href('registry', r.repositoryName ?? '')}>{r.repositoryName}</Link>
              </th>
              <td>
                <code>{r.repositoryUri}</code>
              </td>
              <td>{r.imageTagMutability}</td>
              <td>{r.createdAt?.toLocaleString()}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
