import type ExcelJS from "exceljs";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import type { Role } from "../people/roles.js";
import type { KnownUnit } from "./plan-xlsx.js";
import {
  addGuide,
  asText,
  checkedRows,
  fitRow,
  listValidation,
  openTable,
  sheetNamed,
  styleHeader,
  tableWorkbook,
  toBuffer,
} from "./xlsx-cells.js";

/**
 * The officials the Office invites in bulk: one row per person (name, unit, role). Each row becomes
 * one single-use invite (people/invites.ts); the names stay in the Office's list, not in the
 * database, because an invite binds whoever redeems it.
 */

const X = t.plansExcel;
const WIDTHS = [30, 44, 24, 30] as const;

export interface OfficialRow {
  row: number;
  name: string;
  unitKey: string;
  role: Role;
}

/** The officials template: units and the roles `roles` (what the sender may give) as lists. */
export async function writeOfficialsTemplate(
  units: readonly KnownUnit[],
  roles: readonly Role[],
): Promise<Buffer> {
  const h = X.officialHeaders;
  const { workbook, sheet } = tableWorkbook(X.sheets.officials, WIDTHS, [h.name, h.unit, h.role, h.note]);
  const [first] = units;
  const [role] = roles;
  fitRow(
    sheet.addRow([
      X.exampleOfficial.name,
      first?.name ?? null,
      role ? t.people.role(role) : null,
      X.exampleOfficial.note,
    ]),
    WIDTHS,
  );
  const list = workbook.addWorksheet(X.sheets.units);
  list.columns = [{ width: 26 }, { width: 50 }, { width: 4 }, { width: 28 }];
  list.addRow([X.unitHeaders.key, X.unitHeaders.name, null, h.role]);
  styleHeader(list, 4);
  units.forEach((unit, i) => (list.getRow(i + 2).getCell(1).value = unit.key));
  units.forEach((unit, i) => (list.getRow(i + 2).getCell(2).value = unit.name));
  // The roles' names hold commas, which an inline Excel list would split: they live in cells.
  roles.forEach((r, i) => (list.getRow(i + 2).getCell(4).value = t.people.role(r)));
  const source = (col: string, count: number) =>
    `'${X.sheets.units}'!$${col}$2:$${col}$${Math.max(count, 1) + 1}`;
  listValidation(sheet, "B2:B300", source("B", units.length), X.validationUnits, true);
  listValidation(sheet, "C2:C300", source("D", roles.length), X.validationRoles, true);
  addGuide(workbook, X.officialsGuide);
  return toBuffer(workbook);
}

/** Whether a workbook is an officials list. */
export function isOfficialsWorkbook(workbook: ExcelJS.Workbook): boolean {
  return Boolean(sheetNamed(workbook, X.sheets.officials));
}

/**
 * Reads and checks an officials workbook against the units that exist and the roles the sender
 * may give.
 * @throws WorkbookError with every mistake, by row and column.
 */
export async function readOfficialsWorkbook(
  bytes: Buffer,
  units: readonly KnownUnit[],
  roles: readonly Role[],
  name?: string,
): Promise<OfficialRow[]> {
  const h = X.officialHeaders;
  const { sheet, rows, problems } = await openTable(bytes, X.sheets.officials, h, name);
  const unitOf = new Map<string, KnownUnit>();
  for (const unit of units) {
    unitOf.set(fold(unit.key), unit);
    unitOf.set(fold(unit.name), unit);
  }
  const roleOf = new Map(roles.map((r) => [fold(t.people.role(r)), r] as const));
  const officials: OfficialRow[] = [];
  for (const { row, cells } of rows) {
    const at = (column: keyof typeof h, message: string) =>
      problems.push({ sheet: sheet.name, row, column: h[column], message });
    const person = asText(cells.name).replace(/\s+/g, " ");
    if (person === X.exampleOfficial.name) {
      problems.push({ sheet: sheet.name, row, message: X.exampleRow });
      continue;
    }
    const before = problems.length;
    if (!person) at("name", X.required);
    else if (person.length > 100) at("name", X.tooLong(100));
    const unitText = asText(cells.unit);
    const unit = unitOf.get(fold(unitText));
    if (!unitText) at("unit", X.required);
    else if (!unit) at("unit", X.unknownUnit(unitText));
    const roleText = asText(cells.role);
    const role = roleText ? roleOf.get(fold(roleText)) : roles[0];
    if (!role)
      at(
        "role",
        X.badRole(
          roleText,
          roles.map((r) => t.people.role(r)),
        ),
      );
    if (problems.length === before && unit && role)
      officials.push({ row, name: person, unitKey: unit.key, role });
  }
  return checkedRows(sheet, rows, problems, officials);
}
