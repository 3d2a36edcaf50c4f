/** How often boards report progress (DESIGN: about once a second). */
export const PROGRESS_INTERVAL_MS = 1000;
