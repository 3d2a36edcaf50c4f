import { randomBytes } from 'node:crypto';
import { checkSchema } from '../../lib/validate.js';
import { UserInput, UserPatch, USERNAME_PATTERN, type Role, type User } from '../../protocol/management-api.js';
import type { Store } from '../../store/index.js';
import { ManagementError } from '../errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { deleteSessionsOf } from './sessions.repo.js';
import {
  countUsers,
  deleteUser,
  findUserByName,
  insertUser,
  listUsers,
  toUser,
  updateUser,
  type UserRow,
} from './users.repo.js';

export interface UserService {
  list(): Promise<User[]>;
  count(): Promise<number>;
  create(input: UserInput): Promise<User>;
  /** Changing the password ends the user's other sessions; `keepSession` (a hashed id) survives. */
  update(username: string, patch: UserPatch, keepSession?: string): Promise<User>;
  remove(username: string): Promise<void>;
  /** The user when name and password match; undefined otherwise, after the same work either way. */
  authenticate(username: string, password: string): Promise<UserRow | undefined>;
}

function invalid(p: { path: string; message: string }): never {
  throw new ManagementError('MANAGEMENT_INPUT_INVALID', `${p.path} ${p.message}`, { field: p.path });
}

export function normalizeUsername(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (!new RegExp(USERNAME_PATTERN).test(name)) {
    throw new ManagementError(
      'AUTH_USERNAME_INVALID',
      `Username ${JSON.stringify(raw)} must be 2–32 characters: a–z, 0–9, dot, underscore or dash, starting with a letter or digit`,
      {
        field: 'username',
      },
    );
  }
  return name;
}

function checkPasswordStrength(password: string, username: string): void {
  const lower = password.toLowerCase();
  if (lower.includes(username) || new Set(password).size < 4) {
    throw new ManagementError(
      'AUTH_PASSWORD_WEAK',
      'Choose a password that does not contain the username and is not one repeated character or pattern',
      { field: 'password' },
    );
  }
}

export function createUserService(deps: { store: Store; clock: () => Date }): UserService {
  const { store } = deps;
  const now = () => deps.clock().toISOString();
  // Verified against when a username does not exist, so that costs as much as a wrong password.
  let decoy: Promise<string> | undefined;

  async function find(username: string): Promise<UserRow> {
    const name = username.trim().toLowerCase();
    const row = await findUserByName(store.db, name);
    if (!row)
      throw new ManagementError(
        'AUTH_USER_UNKNOWN',
        `No user ${JSON.stringify(name)}; list users with: rpi-deploy user list`,
        { username: name },
      );
    return row;
  }

  async function refuseLastAdmin(row: UserRow, newRole: Role | undefined, db: Store['db']): Promise<void> {
    if (row.role !== 'admin' || newRole === 'admin') return;
    if ((await countUsers(db, 'admin')) <= 1) {
      throw new ManagementError('AUTH_LAST_ADMIN', `${row.username} is the last admin; make another user admin first`, {
        username: row.username,
      });
    }
  }

  return {
    list: async () => (await listUsers(store.db)).map(toUser),
    count: () => countUsers(store.db),

    async create(input) {
      const u = checkSchema(UserInput, input, invalid);
      const username = normalizeUsername(u.username);
      checkPasswordStrength(u.password, username);
      const passwordHash = await hashPassword(u.password);
      return store.transaction(async (tx) => {
        if (await findUserByName(tx, username))
          throw new ManagementError('AUTH_USER_EXISTS', `User ${username} already exists`, { username });
        return toUser(await insertUser(tx, { username, passwordHash, role: u.role, now: now() }));
      });
    },

    async update(username, patch, keepSession) {
      const p = checkSchema(UserPatch, patch, invalid);
      const row = await find(username);
      if (p.password) checkPasswordStrength(p.password, row.username);
      const passwordHash = p.password ? await hashPassword(p.password) : undefined;
      await store.transaction(async (tx) => {
        // A new password alone leaves the role as it is; only a role change can take the last admin away.
        if (p.role !== undefined) await refuseLastAdmin(row, p.role, tx);
        await updateUser(tx, row.id, {
          ...(p.role && { role: p.role }),
          ...(passwordHash && { passwordHash }),
          now: now(),
        });
        if (passwordHash) await deleteSessionsOf(tx, row.id, keepSession);
      });
      return toUser((await findUserByName(store.db, row.username))!);
    },

    async remove(username) {
      const row = await find(username);
      await store.transaction(async (tx) => {
        await refuseLastAdmin(row, undefined, tx);
        await deleteUser(tx, row.id);
      });
    },

    async authenticate(username, password) {
      const row = await findUserByName(store.db, username.trim().toLowerCase());
      decoy ??= hashPassword(randomBytes(16).toString('hex'));
      const ok = await verifyPassword(password, row?.password_hash ?? (await decoy));
      return row && ok ? row : undefined;
    },
  };
}
