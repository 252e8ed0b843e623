import { LabError, t } from '../../errors/index.ts';

/**
 * Where each row's numbers sit in the SIMD slots of the key holder's ciphertexts.
 *
 * The unit is a *position* of the key holder's list as sent in the PSI step (one blinded
 * identifier; the summing party gets one membership bit per position). Rows sharing an identifier
 * share a position; a padding dummy is a position without rows. Every position gets
 * `lanesPerRow` consecutive slots (slot = positionInCiphertext × lanes + lane). For every group g
 * there is a count field and a sum field, each a bit range [shift, shift + width) of one lane; a row
 * of group g adds 1 to g's count field and its value to g's sum field at its position, nothing
 * anywhere else (a one-hot over groups, so the summing party never needs to know the group).
 * Several fields share a lane when their widths fit: a lane's total across all rows stays below
 * 2^capacity < t, so per-field totals never carry into each other and never wrap modulo t.
 *
 * Field widths come from public job facts only (maxRows, maxValue): count fields need
 * bitLength(maxRows) bits, sum fields bitLength(maxRows × maxValue).
 */
export interface GroupSumShape {
  /** Number of groups (the key holder maps its group codes to 0 … groups − 1). */
  readonly groups: number;
  /** Positions of the key holder's list as sent in the PSI step (with dummies): one membership bit each. */
  readonly positions: number;
  /** Upper bound of the key holder's rows (a public job fact; may be rounded up to hide the exact count). */
  readonly maxRows: number;
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
  /** Slots per position. */
  readonly lanesPerRow: number;
  /** Positions per ciphertext. */
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
  const { groups, positions, maxRows, maxValue } = shape;
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_GROUPS) {
    throw new LabError('LAB-E117', {
      detail: t(`分组数须在 1–${MAX_GROUPS} 之间`, `the number of groups must be 1–${MAX_GROUPS}`),
      field: 'groups',
    });
  }
  if (!Number.isSafeInteger(positions) || positions < 0 || positions > 0xffff_ffff) {
    throw new LabError('LAB-E113', { detail: t('位置数无效', 'invalid number of positions'), field: 'positions' });
  }
  if (!Number.isSafeInteger(maxRows) || maxRows < 0) {
    throw new LabError('LAB-E113', { detail: t('行数上限无效', 'invalid row bound'), field: 'maxRows' });
  }
  if (!Number.isSafeInteger(maxValue) || maxValue < 0) {
    throw new LabError('LAB-E113', { detail: t('声明的最大值须为非负整数', 'the declared maximum must be a non-negative integer'), field: 'maxValue' });
  }
  const capacity = bitLength(space.plainModulus) - 1;
  const countBits = Math.max(1, bitLength(BigInt(maxRows)));
  const sumBits = Math.max(1, bitLength(BigInt(maxRows) * BigInt(maxValue)));
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
    groups, positions, maxRows, maxValue,
    slotCount: space.slotCount,
    capacity, countBits, sumBits,
    lanesPerRow, rowsPerCiphertext,
    ciphertextCount: Math.ceil(positions / rowsPerCiphertext),
    count, sum,
  };
}
