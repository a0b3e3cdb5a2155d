import type ExcelJS from "exceljs";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import {
  addGuide,
  asText,
  checkedRows,
  fitRow,
  listValidation,
  openTable,
  sheetNamed,
  tableWorkbook,
  toBuffer,
} from "../plans/xlsx-cells.js";
import { ALL_UNITS, UNIT_KINDS, type UnitDoc, type UnitKind } from "./schema.js";
import type { UnitInput } from "./service.js";

/**
 * The Department's units as an Excel sheet ("Đơn vị": mã, tên, loại), the same list
 * `npm run units:import` reads from YAML. Loading goes through UnitsService.upsert: by key,
 * idempotent, units left out stay.
 */

const X = t.plansExcel;
const WIDTHS = [28, 56, 16] as const;

/** The units template, or the list as it is (`units`), ready to edit and send back. */
export async function writeUnitsWorkbook(
  units: readonly Pick<UnitDoc, "key" | "name" | "kind">[],
): Promise<Buffer> {
  const { workbook, sheet } = tableWorkbook(X.sheets.units, WIDTHS, [
    X.unitHeaders.key,
    X.unitHeaders.name,
    X.unitHeaders.kind,
  ]);
  for (const unit of units) fitRow(sheet.addRow([unit.key, unit.name, X.unitKinds[unit.kind]]), WIDTHS);
  const kinds = `"${UNIT_KINDS.map((k) => X.unitKinds[k]).join(",")}"`;
  listValidation(sheet, `C2:C${Math.max(units.length + 1, 200)}`, kinds, X.validationKinds, true);
  addGuide(workbook, X.unitsGuide);
  return toBuffer(workbook);
}

/** Whether a workbook is a units list: a "Đơn vị" sheet, and no plan in it. */
export function isUnitsWorkbook(workbook: ExcelJS.Workbook): boolean {
  return Boolean(sheetNamed(workbook, X.sheets.units)) && !sheetNamed(workbook, X.sheets.tasks);
}

/**
 * Reads and checks a units workbook.
 * @throws WorkbookError with every mistake, by row and column.
 */
export async function readUnitsWorkbook(bytes: Buffer, name?: string): Promise<UnitInput[]> {
  const { sheet, rows, problems } = await openTable(bytes, X.sheets.units, X.unitHeaders, name);
  const units: UnitInput[] = [];
  const firstRow = new Map<string, number>();
  const kinds = new Map(UNIT_KINDS.map((k) => [fold(X.unitKinds[k]), k] as const));
  for (const { row, cells } of rows) {
    const at = (column: keyof typeof X.unitHeaders, message: string) =>
      problems.push({ sheet: sheet.name, row, column: X.unitHeaders[column], message });
    const key = asText(cells.key);
    const unitName = asText(cells.name);
    const kindText = asText(cells.kind);
    const before = problems.length;
    if (!key) at("key", X.required);
    else if (!/^[a-z0-9-]{2,40}$/.test(key) || key === ALL_UNITS) at("key", X.badUnitKey(key));
    else if (firstRow.has(key)) at("key", X.duplicateUnit(key, firstRow.get(key) ?? 0));
    else firstRow.set(key, row);
    if (!unitName) at("name", X.required);
    else if (unitName.length < 2) at("name", X.tooShort(2));
    const kind: UnitKind | undefined = kindText
      ? (kinds.get(fold(kindText)) ?? UNIT_KINDS.find((k) => k === kindText))
      : "other";
    if (!kind) at("kind", X.badKind(kindText));
    if (problems.length === before && kind) units.push({ key, name: unitName, kind });
  }
  return checkedRows(sheet, rows, problems, units);
}
