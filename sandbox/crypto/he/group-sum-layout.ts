import { LabError, t } from '../../errors/index.ts';

/**
 * Where each row's numbers sit in the SIMD slots of the key holder's ciphertexts.
 *
 * Every row gets `lanesPerRow` consecutive slots (row-major: slot = rowInCiphertext × lanes + lane).
 * For every group g there is a count field and a sum field, each a bit range [shift, shift + width)
 * of one lane; a row of group g puts 1 in g's count field and its value in g's sum field, zeros
 * everywhere else (a one-hot over groups, so the summing party never needs to know the group).
 * Several fields share a lane when their widths fit: a lane's total across all rows stays below
 * 2^capacity ≤ t, so per-field totals never carry into each other and never wrap modulo t.
 *
 * Field widths come from public job facts only (row count, number of groups, declared maximum
 * value): count fields need bitLength(rowCount) bits, sum fields bitLength(rowCount × maxValue).
 */
export interface GroupSumShape {
  /** Number of groups (the key holder maps its group codes to 0 … groups − 1). */
  readonly groups: number;
  /** Rows the key holder sends, in the order of its blinded identifiers in the PSI step. */
  readonly rowCount: number;
  /** Declared upper bound of the measure (a non-negative safe integer); rows above it are refused. */
  readonly maxValue: number;
}

export interface FieldPlace {
  readonly lane: number;
  readonly shift: number;
  readonly width: number;
}

export interface GroupSumLayout extends GroupSumShape {
  readonly slotCount: number;
  /** Bits a lane may fill: bitLength(t) − 1, so that every lane total is < 2^capacity < t. */
  readonly capacity: number;
  readonly countBits: number;
  readonly sumBits: number;
  readonly lanesPerRow: number;
  readonly rowsPerCiphertext: number;
  readonly ciphertextCount: number;
  /** Per group. */
  readonly count: readonly FieldPlace[];
  readonly sum: readonly FieldPlace[];
}

/** One-hot over groups needs 2 × groups fields per row: beyond this, rows per ciphertext become too few. */
export const MAX_GROUPS = 512;

const bitLength = (x: bigint): number => (x <= 0n ? 0 : x.toString(2).length);

export function planGroupSumLayout(shape: GroupSumShape, space: { readonly slotCount: number; readonly plainModulus: bigint }): GroupSumLayout {
  const { groups, rowCount, maxValue } = shape;
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_GROUPS) {
    throw new LabError('LAB-E117', {
      detail: t(`分组数须在 1–${MAX_GROUPS} 之间`, `the number of groups must be 1–${MAX_GROUPS}`),
      field: 'groups',
    });
  }
  if (!Number.isSafeInteger(rowCount) || rowCount < 0 || rowCount > 0xffff_ffff) {
    throw new LabError('LAB-E113', { detail: t('行数无效', 'invalid row count'), field: 'rowCount' });
  }
  if (!Number.isSafeInteger(maxValue) || maxValue < 0) {
    throw new LabError('LAB-E113', { detail: t('声明的最大值须为非负整数', 'the declared maximum must be a non-negative integer'), field: 'maxValue' });
  }
  const capacity = bitLength(space.plainModulus) - 1;
  const countBits = Math.max(1, bitLength(BigInt(rowCount)));
  const sumBits = Math.max(1, bitLength(BigInt(rowCount) * BigInt(maxValue)));
  if (sumBits > capacity || countBits > capacity) {
    throw new LabError('LAB-E112', {
      detail: t(
        `行数 × 最大值需要 ${sumBits} 位，明文模数只能容纳 ${capacity} 位`,
        `rows × maximum value needs ${sumBits} bits; the plain modulus holds ${capacity}`,
      ),
      hint: t('降低声明的最大值、拆分为更小的批次，或使用更大的明文模数', 'lower the declared maximum, split into smaller batches, or use a larger plain modulus'),
      field: 'maxValue',
    });
  }

  // First-fit decreasing: wider fields first, each into the first lane with room.
  const fields = [
    ...Array.from({ length: groups }, (_, g) => ({ kind: 'sum' as const, g, width: sumBits })),
    ...Array.from({ length: groups }, (_, g) => ({ kind: 'count' as const, g, width: countBits })),
  ].sort((a, b) => b.width - a.width);
  const used: number[] = [];
  const count: FieldPlace[] = new Array<FieldPlace>(groups);
  const sum: FieldPlace[] = new Array<FieldPlace>(groups);
  for (const f of fields) {
    let lane = used.findIndex((u) => u + f.width <= capacity);
    if (lane < 0) { lane = used.length; used.push(0); }
    const place = { lane, shift: used[lane]!, width: f.width };
    used[lane] = place.shift + f.width;
    (f.kind === 'sum' ? sum : count)[f.g] = place;
  }
  const lanesPerRow = used.length;
  const rowsPerCiphertext = Math.floor(space.slotCount / lanesPerRow);
  if (rowsPerCiphertext < 1) {
    throw new LabError('LAB-E117', { detail: t('分组过多，一个密文容纳不下一行', 'too many groups: one row does not fit in a ciphertext'), field: 'groups' });
  }
  return {
    groups, rowCount, maxValue,
    slotCount: space.slotCount,
    capacity, countBits, sumBits,
    lanesPerRow, rowsPerCiphertext,
    ciphertextCount: Math.ceil(rowCount / rowsPerCiphertext),
    count, sum,
  };
}
