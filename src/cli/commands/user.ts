import { Option, type Command } from 'commander';
import { createUserService } from '../../management/index.js';
import { ROLES, type Role, type User } from '../../protocol/management-api.js';
import { formatOf, withChange, withCore } from '../context.js';
import { oneOf } from '../options.js';
import { print, printJson, type Column } from '../output.js';
import { readSecret } from '../prompt.js';

const USER_COLUMNS: Column<User>[] = [
  { title: 'username', value: (u) => u.username },
  { title: 'role', value: (u) => u.role },
  { title: 'created', value: (u) => u.createdAt },
  { title: 'updated', value: (u) => u.updatedAt },
];

async function newPassword(): Promise<string> {
  const first = await readSecret('Password: ');
  if (process.stdin.isTTY && (await readSecret('Again: ')) !== first)
    throw new Error('The two passwords differ; nothing was changed');
  return first;
}

/** Operators of the web UI and API. The first admin is made here (or with the setup token `serve` prints). */
export function registerUser(user: Command): void {
  user
    .command('add <username>')
    .description('add a user; the password is typed (hidden) or read from the first line of standard input')
    .addOption(new Option('--role <role>', `one of ${ROLES.join(', ')}`).argParser(oneOf(ROLES)))
    .option('--admin', 'same as --role admin')
    .option('--json', 'print JSON')
    .action((username: string, opts: { role?: Role; admin?: boolean; json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'user.create', target: username.toLowerCase() }, async ({ store }) => {
        const role: Role = opts.admin ? 'admin' : (opts.role ?? 'operator');
        const created = await createUserService({ store, clock: () => new Date() }).create({
          username,
          password: await newPassword(),
          role,
        });
        if (opts.json) printJson(created);
        else process.stdout.write(`User ${created.username} added as ${created.role}\n`);
      }),
    );

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ store }) =>
        print(
          formatOf(opts),
          await createUserService({ store, clock: () => new Date() }).list(),
          USER_COLUMNS,
          'No users yet.',
        ),
      ),
    );

  user
    .command('passwd <username>')
    .description('set a new password (ends that user’s sessions)')
    .action((username: string, _opts: object, cmd: Command) =>
      withChange(
        cmd,
        { action: 'user.update', target: username.toLowerCase(), details: { password: 'changed' } },
        async ({ store }) => {
          await createUserService({ store, clock: () => new Date() }).update(username, {
            password: await newPassword(),
          });
          process.stdout.write(`Password of ${username.toLowerCase()} changed\n`);
        },
      ),
    );

  user
    .command('remove <username>')
    .description('delete a user, their sessions and API tokens')
    .action((username: string, _opts: object, cmd: Command) =>
      withChange(cmd, { action: 'user.delete', target: username.toLowerCase() }, async ({ store }) => {
        await createUserService({ store, clock: () => new Date() }).remove(username);
        process.stdout.write(`User ${username.toLowerCase()} removed\n`);
      }),
    );
}
