import type { CheckStatus, DoctorCheck } from '../../protocol/doctor.js';

export const pass = (id: string, summary: string): DoctorCheck => ({ id, status: 'pass', summary });
export const warn = (id: string, summary: string, fix?: string): DoctorCheck => ({
  id,
  status: 'warn',
  summary,
  ...(fix && { fix }),
});
export const fail = (id: string, summary: string, fix?: string): DoctorCheck => ({
  id,
  status: 'fail',
  summary,
  ...(fix && { fix }),
});

/** The worst status among the checks. */
export function overall(checks: readonly DoctorCheck[]): CheckStatus {
  return checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
}
