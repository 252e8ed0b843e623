import { formatDay } from './dates.ts';
import { houseTaskRange, type CityPlan } from './city-plan.ts';
import { houseAddress, ownerIdNumber } from './city.generator.ts';
import { addHouse, type TruthPartial } from './ground-truth.ts';
import { cumulative, type Rng } from './prng.ts';
import { T, type RowWriter } from './tables.ts';

const YEAR = 365;
const CATEGORIES = ['public_order', 'fire_hazard', 'dispute', 'illegal_alteration', 'sanitation'] as const;
const CUM_CATEGORY_UV = cumulative([0.25, 0.25, 0.15, 0.2, 0.15]);
const CUM_CATEGORY = cumulative([0.2, 0.15, 0.3, 0.1, 0.25]);

/**
 * Planted house-level rates: self-declaration by the landlord (urban village 45 %, elsewhere 65 %),
 * incidents over the last three years (Poisson, mean 0.9 in urban villages, 0.25 elsewhere, × 1.5
 * when the house never self-declared). S3 = undeclared houses with an incident in W.
 */
export const HOUSE_RATES = { declaredUrbanVillage: 0.45, declaredElsewhere: 0.65, incidentsUrbanVillage: 0.9, incidentsElsewhere: 0.25, undeclaredIncidentFactor: 1.5 } as const;

/** Generates the rental houses of one house task, with their self-declarations and incidents. */
export async function generateHouses(plan: CityPlan, task: number, out: RowWriter, truth: TruthPartial, pause: () => Promise<void> | void): Promise<number> {
  const [from, to] = houseTaskRange(plan, task);
  const geo = plan.geo;
  const asOf = plan.asOf;
  let houses = 0;
  for (let g = from; g < to; g++) {
    const count = (plan.houseStart[g + 1] ?? 0) - (plan.houseStart[g] ?? 0);
    const district = geo.gridDistrict[g] ?? 0;
    const uv = geo.gridUrbanVillage[g] === 1;
    const gc = geo.gridCodes[g] ?? '';
    const geoText = `${gc.slice(0, 6)}\t${gc.slice(0, 9)}\t${gc.slice(0, 12)}\t${gc}`;
    for (let k = 0; k < count; k++) {
      const { address, key, rng } = houseAddress(plan, g, k);
      const houseId = (plan.houseStart[g] ?? 0) + k + 1;
      const owner = ownerIdNumber(plan, rng, district);
      const rooms = uv ? rng.between(6, 30) : rng.between(1, 5);
      const area = uv ? rooms * rng.between(12, 25) : rng.between(35, 150);
      const registeredOn = asOf - rng.int(15 * YEAR);
      out.add(T.rentalHouse, `${houseId}\t${address}\t${key}\t${owner}\t${geoText}\t${uv ? 't' : 'f'}\t${rooms}\t${area}\t${formatDay(registeredOn)}`);
      let declarations = 0;
      if (rng.chance(uv ? HOUSE_RATES.declaredUrbanVillage : HOUSE_RATES.declaredElsewhere)) {
        declarations = rng.between(1, 3);
        const earliest = Math.max(registeredOn, asOf - 3 * YEAR);
        for (let j = 0; j < declarations; j++) {
          out.add(T.selfDeclaration, `${houseId * 4 + j}\t${houseId}\t${formatDay(rng.between(earliest, asOf))}`);
        }
      }
      const mean = (uv ? HOUSE_RATES.incidentsUrbanVillage : HOUSE_RATES.incidentsElsewhere) * (declarations === 0 ? HOUSE_RATES.undeclaredIncidentFactor : 1);
      const n = Math.min(4, poisson(rng, mean));
      const days: number[] = [];
      for (let j = 0; j < n; j++) {
        const day = asOf - rng.int(3 * YEAR);
        days.push(day);
        const cat = CATEGORIES[rng.pickCumulative(uv ? CUM_CATEGORY_UV : CUM_CATEGORY)] ?? 'dispute';
        out.add(T.incident, `${2 * (houseId * 4 + j)}\t${key}\t${geoText}\t${formatDay(day)}\t${cat}`);
      }
      addHouse(truth, plan, houseId, district, days, declarations);
      if (++houses % 2048 === 0) await pause();
    }
  }
  return houses;
}

function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.float();
  while (p > limit) {
    k++;
    p *= rng.float();
  }
  return k;
}
