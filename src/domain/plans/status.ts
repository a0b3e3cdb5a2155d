/** Where a unit stands on a task. */
export const TASK_STATUSES = ["not_started", "in_progress", "done", "blocked"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const RECURRENCES = ["quarterly", "six-monthly", "yearly"] as const;
export type Recurrence = (typeof RECURRENCES)[number];
