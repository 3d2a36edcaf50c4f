import { describe, expect, it } from 'vitest';
import { transition } from './deployment-state.js';
import type { DeploymentStatus } from '../protocol/fleet.js';

describe('deployment transition', () => {
  it.each<[DeploymentStatus, DeploymentStatus, string]>([
    ['enrolled', 'downloading', 'advance'],
    ['enrolled', 'writing', 'advance'],
    ['writing', 'verifying', 'advance'],
    ['verifying', 'customizing', 'advance'],
    ['customizing', 'success', 'advance'],
    ['enrolled', 'success', 'advance'],
    ['writing', 'failed', 'advance'],
    ['enrolled', 'failed', 'advance'],
    ['writing', 'writing', 'same'],
    ['verifying', 'downloading', 'stale'],
    ['customizing', 'enrolled', 'stale'],
    ['success', 'failed', 'finished'],
    ['failed', 'writing', 'finished'],
    ['success', 'success', 'same'],
  ])('%s → %s is %s', (from, to, kind) => expect(transition(from, to).kind).toBe(kind));
});
