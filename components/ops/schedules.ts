/**
 * Spread schedules: each namespace's backup jobs start at a minute derived from a stable hash
 * of a key (the organisation's slug, or `slug/database` for a PostgreSQL cluster) inside a
 * configured UTC window (`liiibre:backup.windows`), so that the Helsinki server never receives
 * every job at once. The hash depends on the key only — never on a tenant's position in the
 * config — so adding or reordering organisations moves no one else's schedule.
 */

/** FNV-1a, 32 bits, over the UTF-8 bytes of `key`: stable across runs, platforms and Node versions. */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A window `HH:MM-HH:MM` as start minute of the day and length in minutes (wrapping past midnight). */
export function parseWindow(window: string): { start: number; length: number } {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(window);
  if (!m) throw new Error(`time window "${window}": expected HH:MM-HH:MM`);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const length = (end - start + 1440) % 1440;
  if (length === 0) throw new Error(`time window "${window}": start and end must differ`);
  return { start, length };
}

/** The UTC time (hour, minute, minutes after midnight) of `key` inside `window`. `salt` separates job kinds. */
export function slotOf(key: string, window: string, salt = ""): { hour: number; minute: number; minuteOfDay: number } {
  const { start, length } = parseWindow(window);
  const minuteOfDay = (start + (stableHash(`${salt}${key}`) % length)) % 1440;
  return { hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60, minuteOfDay };
}

export interface ScheduleWindows {
  baseBackup: string;
  volumeBackup: string;
  prune: string;
  /** 0 = Sunday. */
  pruneWeekday: number;
}

/** The schema's default windows (components/config/schema.ts BackupSchema.windows). */
export const DEFAULT_WINDOWS: ScheduleWindows = { baseBackup: "00:30-03:30", volumeBackup: "01:00-05:00", prune: "04:00-07:00", pruneWeekday: 0 };

/** k8up cron lines (5 fields) of a namespace: daily backup, weekly check and prune (check 30 min before prune's slot, same day). */
export function k8upSchedules(slug: string, w: ScheduleWindows = DEFAULT_WINDOWS): { backup: string; check: string; prune: string } {
  const b = slotOf(slug, w.volumeBackup, "k8up-backup:");
  const p = slotOf(slug, w.prune, "k8up-prune:");
  const c = slotOf(slug, w.prune, "k8up-check:");
  return {
    backup: `${b.minute} ${b.hour} * * *`,
    check: `${c.minute} ${c.hour} * * ${w.pruneWeekday}`,
    prune: `${p.minute} ${p.hour} * * ${w.pruneWeekday}`,
  };
}

/** CloudNativePG ScheduledBackup cron (6 fields, seconds first) of a cluster keyed `slug/database`. */
export function baseBackupSchedule(key: string, w: ScheduleWindows = DEFAULT_WINDOWS): string {
  const s = slotOf(key, w.baseBackup, "base-backup:");
  return `0 ${s.minute} ${s.hour} * * *`;
}
