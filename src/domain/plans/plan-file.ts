import { z } from "zod";
import { DataFileError, readYaml, type FileProblem } from "../data-file.js";
import { ALL_UNITS } from "../units/schema.js";
import { RECURRENCES } from "./status.js";

/** A plan as the Office writes it: one YAML file per plan (data/plans/*.yaml). */

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "ngày phải viết dạng YYYY-MM-DD")
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), "ngày không tồn tại");
const unitKey = z.string().regex(/^[a-z0-9-]{2,40}$/, "mã đơn vị chỉ gồm chữ thường không dấu, số và '-'");

const taskSchema = z
  .object({
    code: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.\-_]{0,39}$/, "mã nhiệm vụ chỉ gồm chữ, số, '.', '-', '_'"),
    title: z.string().trim().min(3, "tiêu đề quá ngắn").max(200, "tiêu đề dài quá 200 ký tự"),
    content: z.string().trim().min(3, "nội dung quá ngắn"),
    units: z.array(unitKey).min(1, "cần ít nhất một đơn vị thực hiện"),
    lead: unitKey.optional(),
    deadline: day.optional(),
    recurrence: z.enum(RECURRENCES, "định kỳ phải là quarterly, six-monthly hoặc yearly").optional(),
    /** The Office's own remark on the task (the "Ghi chú" column of the Excel template). */
    note: z.string().trim().min(1).max(2000, "ghi chú dài quá 2000 ký tự").optional(),
  })
  .strict()
  .refine((task) => Boolean(task.deadline) !== Boolean(task.recurrence), {
    message: "mỗi nhiệm vụ có đúng một trong hai: deadline (hạn) hoặc recurrence (báo cáo định kỳ)",
  });

/** The whole plan; the Excel reader (plan-xlsx.ts) checks what it built against it too. */
export const planFileSchema = z
  .object({
    code: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,40}$/, "mã kế hoạch chỉ gồm chữ in hoa, số và '-'"),
    title: z.string().trim().min(5, "tên kế hoạch quá ngắn"),
    organisation: z.string().trim().min(3, "thiếu tên cơ quan"),
    period: z.object({ from: day, to: day }).strict(),
    document: z
      .object({
        number: z.string().trim().min(1, "thiếu số văn bản"),
        date: day.optional(),
        // The month alone, when the source leaves the day blank ("ngày __ tháng 11 năm 2025"): a
        // blank stays blank, it is never filled with a day nobody printed.
        month: z
          .string()
          .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "tháng phải viết dạng YYYY-MM")
          .optional(),
        issuer: z.string().trim().min(3, "thiếu cơ quan ban hành"),
      })
      .strict(),
    units: z.array(z.object({ key: unitKey, name: z.string().trim().min(2) }).strict()).default([]),
    tasks: z.array(taskSchema).min(1, "kế hoạch cần ít nhất một nhiệm vụ"),
  })
  .strict();

export type PlanFile = z.infer<typeof planFileSchema>;
export type PlanTaskFile = PlanFile["tasks"][number];

/**
 * Parses and checks a plan file.
 * @throws DataFileError listing every problem with its line.
 */
export function readPlanFile(text: string, file: string): PlanFile {
  const { value: plan, at: where } = readYaml(text, file, planFileSchema);
  const problems: FileProblem[] = [];
  const known = new Set([ALL_UNITS, ...plan.units.map((u) => u.key)]);
  const seen = new Set<string>();
  plan.tasks.forEach((task, index) => {
    const at = (key: string) => where(["tasks", index, key]);
    if (seen.has(task.code)) problems.push({ ...at("code"), message: `mã nhiệm vụ ${task.code} bị trùng` });
    seen.add(task.code);
    for (const key of [...task.units, ...(task.lead ? [task.lead] : [])]) {
      if (!known.has(key)) {
        problems.push({
          ...at(task.units.includes(key) ? "units" : "lead"),
          message: `đơn vị "${key}" chưa khai báo trong units`,
        });
      }
    }
  });
  if (plan.period.from > plan.period.to) {
    problems.push({ ...where(["period"]), message: "ngày bắt đầu sau ngày kết thúc" });
  }
  if (problems.length > 0) throw new DataFileError(file, problems);
  return plan;
}
