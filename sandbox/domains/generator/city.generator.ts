import { addYears, compactDay, dayFromYmd, flat, formatDay, monthStart, addMonths } from './dates.ts';
import {
  FLOATING_TEMPLATES, LOCAL_TEMPLATES, OWNER_SLOT_FROM, OWNER_SLOTS, SLOTS_PER_TASK, personTaskRange,
  type CityPlan, type FloatingTemplate, type LocalTemplate,
} from './city-plan.ts';
import { addPerson, emptyFacts, NO_DATE, type PersonFacts, type TruthPartial } from './ground-truth.ts';
import { byteaCopyText, referenceTemplate, SYNTHETIC_MODEL_ID, visitCapture } from './face-synth.ts';
import { makeIdNumber } from './id-number.ts';
import { FEMALE_GIVEN, LOCAL_SURNAMES, MALE_GIVEN, NATIONAL_SURNAMES } from './names.data.ts';
import { cumulative, Rng } from './prng.ts';
import { N, T, type RowWriter } from './tables.ts';
import { LabError, t } from '../../errors/index.ts';

/**
 * Generates the persons of one person task: households one after another from the task's own
 * random stream, every row of every domain for each member, and the member's contribution to the
 * ground truth. Nothing about a person outlives its household except the task's ID counters.
 *
 * Planted rates (docs/data.md lists them with their reasons):
 */
export const RATES = {
  /** Local households that moved away (all members deregistered). */
  localLeft: 0.008,
  /** Registered households with no activity anywhere in the last 12 months (S4b inactive). */
  inactive: 0.005,
  /** Local households living in another district than their registration (S4c). */
  separated: 0.10,
  /** Of separated households, the share that rents (a tenancy active at asOf shows the residence). */
  separatedRenting: 0.75,
  /** Chance that a household is visited by grid workers (over three years): urban village or floating, separated, other. */
  visitedBusy: 0.85,
  visitedSeparated: 0.8,
  visitedOther: 0.55,
  /** Floating households absent from the registry (S4a), before registration lag. */
  unregistered: 0.05,
  /** Unregistered households that have since left (their rows end, often before W). */
  unregisteredLeft: 0.2,
  /** Registered floating households whose residence registration was cancelled (left). */
  floatingLeft: 0.03,
  /** Floating households that arrived in the last quarter (S6). */
  newArrival: 0.05,
  /** Local households whose hukou moved in during the last quarter. */
  localNewArrival: 0.003,
  floatingRenting: 0.85,
  localRenting: 0.08,
} as const;

type Fate = 'normal' | 'left' | 'inactive';

interface Member {
  index: number;
  role: 'adult' | 'spouse' | 'child' | 'elder' | 'mate';
  age: number;
  male: boolean;
  birth: number;
  idNumber: string;
  name: string;
  /** First day in the city (birth, arrival, or hukou move-in). */
  start: number;
  /** Last day of activity (asOf, departure, death, or the last active day of an inactive household). */
  end: number;
  registeredOn: number;
  deregisteredOn: number;
  /** Death recorded in civil.death (planted or properly deregistered). */
  died: boolean;
  plantedDeath: boolean;
  /** grid.visit rows so far (at most 8: visit_id = (index + 1) × 8 + j). */
  visits: number;
  /** The reference template in registry.reference_photo (null: none). */
  faceReference: Int8Array | null;
  facts: PersonFacts;
}

interface MemberSpec { role: Member['role']; age: number; male: boolean }

function capAge(a: number, hi: number): number {
  return Math.max(0, Math.min(hi, Math.round(a)));
}

interface Home {
  /** Residence grid. */
  grid: number;
  address: string;
  key: string;
  /** House number (0-based, global) when renting, else −1. */
  house: number;
}

const DAY_2001 = dayFromYmd(2001, 1, 1);
const DAY_2012 = dayFromYmd(2012, 1, 1);
const DAY_1995 = dayFromYmd(1995, 1, 1);
const YEAR = 365;

const INDUSTRIES_FLOATING = ['manufacturing', 'construction', 'retail', 'logistics', 'hospitality', 'it', 'services', 'public'] as const;
const CUM_INDUSTRY_FLOATING = cumulative([0.22, 0.10, 0.18, 0.14, 0.14, 0.06, 0.14, 0.02]);
const CUM_INDUSTRY_LOCAL = cumulative([0.10, 0.04, 0.16, 0.10, 0.08, 0.16, 0.18, 0.18]);
const CUM_LOCAL_SURNAME = cumulative(LOCAL_SURNAMES.map((s) => s[1]));
const CUM_NATIONAL_SURNAME = cumulative(NATIONAL_SURNAMES.map((s) => s[1]));
const DISABILITY_TYPES = ['visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental'] as const;
const CUM_DISABILITY_TYPE = cumulative([0.13, 0.22, 0.03, 0.38, 0.09, 0.15]);
const CUM_GRADE = cumulative([0.15, 0.25, 0.30, 0.30]);
const PURPOSES = ['routine', 'registration', 'care', 'verification'] as const;
const CHRONIC = [
  // condition, prevalence by age band [<35, 35-44, 45-59, 60-69, 70+]
  ['hypertension', [0.004, 0.04, 0.12, 0.25, 0.35]],
  ['diabetes', [0.001, 0.01, 0.04, 0.09, 0.10]],
  ['copd', [0, 0.002, 0.008, 0.03, 0.05]],
  ['heart_disease', [0, 0.003, 0.015, 0.04, 0.07]],
  ['stroke', [0, 0.001, 0.006, 0.02, 0.04]],
  ['severe_mental', [0.003, 0.005, 0.005, 0.004, 0.003]],
] as const;

/** Per-task ID sequence allocation: (region, birth date, sex) → next free slot of this task. */
export class IdAllocator {
  private readonly counters: Uint8Array;
  private readonly days: number;

  constructor(private readonly plan: CityPlan) {
    this.days = plan.asOf - plan.minBirth + 1;
    this.counters = new Uint8Array(plan.regionCodes.length * this.days * 2);
  }

  reset(): void {
    this.counters.fill(0);
  }

  /**
   * An ID number unique in the whole city: sequence slots [task × 24, task × 24 + 24) belong to
   * this task, and within the task a counter per (region, birth date, sex) hands them out. When
   * all 24 are taken (practically never), the birth date moves by a day within [lo, hi].
   */
  allocate(task: number, region: number, birth: number, male: boolean, lo: number, hi: number): { idNumber: string; birth: number } {
    for (let step = 0; step < 64; step++) {
      const delta = step % 2 === 0 ? step / 2 : -(step + 1) / 2;
      const day = birth + delta;
      if (day < lo || day > hi) continue;
      const i = (region * this.days + (this.plan.asOf - day)) * 2 + (male ? 0 : 1);
      const used = this.counters[i] ?? 0;
      if (used >= SLOTS_PER_TASK) continue;
      this.counters[i] = used + 1;
      const slot = task * SLOTS_PER_TASK + used;
      return { idNumber: makeIdNumber(this.plan.regionCodes[region] ?? '440100', compactDay(day), 2 * slot + (male ? 1 : 2)), birth: day };
    }
    throw new LabError('LAB-E040', { detail: t('身份号码顺序码耗尽', 'ran out of ID-number sequence slots') });
  }
}

/** A landlord's ID number: reserved sequence slots, so it never equals a person's. */
export function ownerIdNumber(plan: CityPlan, rng: Rng, district: number): string {
  const region = rng.chance(0.8) ? district : rng.int(plan.districtCount);
  const age = rng.between(30, 80);
  const birth = addYears(plan.asOf, -age) - rng.int(365);
  const male = rng.chance(0.55);
  const slot = OWNER_SLOT_FROM + rng.int(OWNER_SLOTS);
  return makeIdNumber(plan.regionCodes[region] ?? '440100', compactDay(birth), 2 * slot + (male ? 1 : 2));
}

/** A rental house's address and normalised key: a function of (grid, number) only. */
export function houseAddress(plan: CityPlan, grid: number, k: number): { address: string; key: string; rng: Rng } {
  const houseNo = (plan.houseStart[grid] ?? 0) + k;
  const rng = Rng.at(plan.houseKey, houseNo);
  const geo = plan.geo;
  const community = geo.communities[geo.gridCommunity[grid] ?? 0];
  const street = community ? geo.streets[community.street] : undefined;
  const district = community ? geo.districts[community.district] : undefined;
  const prefix = `广州市${district?.zh ?? ''}${street?.zh ?? ''}`;
  const number = rng.between(1, 180);
  let address: string;
  if (community && community.kind !== 'community') {
    const lane = `${community.roads[0] ?? ''}${['东', '西', '南', '北', '中'][rng.int(5)] ?? ''}${rng.between(1, 12)}巷`;
    address = `${prefix}${lane}${number}号`;
  } else {
    address = `${prefix}${community?.roads[rng.int(community.roads.length)] ?? '大道'}${number}号${rng.between(1, 30)}栋`;
  }
  const key = `${geo.gridCodes[grid] ?? ''}-H${String(k + 1).padStart(5, '0')}`;
  return { address, key, rng };
}

export interface PersonTaskResult {
  persons: number;
  rows: number[];
  digests: string[];
}

export class PersonGenerator {
  private rng!: Rng;
  private task = 0;
  private readonly ids: IdAllocator;

  /** The ID counters are large (≈ 15 MB): keep one generator per thread and rebind it per task. */
  constructor(private readonly plan: CityPlan, private out: RowWriter, private truth: TruthPartial) {
    this.ids = new IdAllocator(plan);
  }

  bind(out: RowWriter, truth: TruthPartial): void {
    this.out = out;
    this.truth = truth;
  }

  /** Generates every person of the task; `progress` is called now and then with persons done. */
  async run(task: number, progress: (persons: number) => Promise<void> | void): Promise<number> {
    const [from, to] = personTaskRange(this.plan.persons, task);
    this.task = task;
    this.rng = Rng.at(this.plan.key, task, 1);
    this.ids.reset();
    let i = from;
    let reported = from;
    while (i < to) {
      const size = this.household(i, to - i);
      i += size;
      if (i - reported >= 2048) {
        await progress(i - reported);
        reported = i;
      }
    }
    await progress(i - reported);
    return to - from;
  }

  // ───────────────────────────── households ─────────────────────────────

  /** Generates one household starting at person index `first`, at most `room` members; returns its size. */
  private household(first: number, room: number): number {
    const { plan, rng } = this;
    const floating = rng.chance(plan.pFloatingHousehold);
    const specs = floating
      ? this.floatingMembers((FLOATING_TEMPLATES[rng.pickCumulative(plan.cumFloatingTemplate)] ?? FLOATING_TEMPLATES[0]).kind)
      : this.localMembers((LOCAL_TEMPLATES[rng.pickCumulative(plan.cumLocalTemplate)] ?? LOCAL_TEMPLATES[0]).kind);
    const members = specs.slice(0, room);
    const regGrid = rng.pickCumulative(floating ? plan.cumFloatingGrid : plan.cumLocalGrid);
    const regDistrict = plan.geo.gridDistrict[regGrid] ?? 0;
    const asOf = plan.asOf;

    // Household fate and dates.
    let fate: Fate = 'normal';
    let registered = true;
    let separated = false;
    let newArrival = false;
    const u = rng.float();
    if (floating) {
      if (u < RATES.unregistered) {
        registered = false;
        if (rng.chance(RATES.unregisteredLeft)) fate = 'left';
      } else if (u < RATES.unregistered + RATES.floatingLeft) fate = 'left';
      else if (u < RATES.unregistered + RATES.floatingLeft + RATES.inactive) fate = 'inactive';
      if (fate === 'normal' && rng.chance(RATES.newArrival)) newArrival = true;
    } else {
      if (u < RATES.localLeft) fate = 'left';
      else if (u < RATES.localLeft + RATES.inactive) fate = 'inactive';
      else if (rng.chance(RATES.separated)) separated = true;
      if (fate === 'normal' && rng.chance(RATES.localNewArrival)) newArrival = true;
    }
    if (fate === 'inactive') for (const m of members) if (m.age < 2) m.age = 2 + rng.int(3);

    const head = members[0];
    const headAge = head?.age ?? 30;
    const head16 = addYears(asOf, -(headAge - 16));
    // Arrival (floating) or hukou move-in (locals who moved in); −1 = born here.
    let arrival = -1;
    if (floating) {
      if (newArrival) arrival = rng.between(plan.qStart, asOf);
      else {
        arrival = plan.qStart - 1 - Math.floor(rng.exponential(4.5 * YEAR));
        if (arrival < head16) arrival = Math.min(plan.qStart - 1, head16 + rng.int(YEAR));
      }
    } else if (newArrival) arrival = rng.between(plan.qStart, asOf);
    else if (rng.chance(0.3)) {
      arrival = plan.qStart - 1 - Math.floor(rng.exponential(10 * YEAR));
      if (arrival < head16) arrival = -1;
    }
    if (fate === 'inactive' && arrival > plan.wStart - 30) arrival = plan.wStart - 30 - rng.int(2 * YEAR);
    const hhStart = arrival >= 0 ? arrival : asOf - 20 * YEAR;

    let hhEnd = asOf;
    if (fate === 'left') {
      hhEnd = asOf - rng.int(3 * YEAR);
      if (hhEnd < hhStart + 30) hhEnd = Math.min(asOf, hhStart + rng.between(30, 400));
    } else if (fate === 'inactive') {
      hhEnd = plan.wStart - rng.int(900);
      if (hhEnd < hhStart + 1) hhEnd = Math.min(plan.wStart, hhStart + rng.between(1, 200));
    }

    // Registration of a floating household (residence permit) lags its arrival.
    let hhRegistered = -1;
    if (floating && registered) {
      const lag = rng.chance(0.5) ? rng.int(15) : rng.chance(0.7) ? rng.between(15, 60) : rng.between(61, 180);
      hhRegistered = arrival + lag;
      if (fate === 'inactive') hhRegistered = Math.min(hhRegistered, plan.wStart);
      if (hhRegistered > asOf) registered = false;
    }

    // Residence: registration grid, or another district for separated locals.
    let resGrid = regGrid;
    if (separated) {
      for (let tries = 0; tries < 30; tries++) {
        const g = rng.pickCumulative(plan.cumLocalGrid);
        if ((plan.geo.gridDistrict[g] ?? 0) !== regDistrict) { resGrid = g; break; }
      }
    }
    const renting = floating ? rng.chance(RATES.floatingRenting) : separated ? rng.chance(RATES.separatedRenting) : rng.chance(RATES.localRenting);
    const home = this.home(resGrid, renting);
    const regAddress = flat(floating || !separated ? home.address + (renting ? `${rng.between(1, 8)}${String(rng.between(1, 12)).padStart(2, '0')}房` : '') : this.home(regGrid, false).address);

    // Members: names, birth dates, ID numbers, presence windows, registry status.
    const surnames = floating ? NATIONAL_SURNAMES : LOCAL_SURNAMES;
    const cumSurname = floating ? CUM_NATIONAL_SURNAME : CUM_LOCAL_SURNAME;
    const familyName = surnames[rng.pickCumulative(cumSurname)]?.[0] ?? '陈';
    const origin = floating ? plan.districtCount + rng.pickCumulative(plan.cumOrigin) : -1;
    const built: Member[] = [];
    for (let j = 0; j < members.length; j++) {
      const spec = members[j];
      if (!spec) continue;
      const index = first + j;
      const hi = addYears(asOf, -spec.age);
      const lo = addYears(asOf, -(spec.age + 1)) + 1;
      let region: number;
      if (floating) region = origin;
      else region = rng.chance(0.85) ? regDistrict : rng.pickCumulative(plan.cumDistrict);
      const id = this.ids.allocate(this.task, region, rng.between(lo, hi), spec.male, lo, hi);
      const ownName = spec.role === 'mate' || spec.role === 'spouse' || (spec.role === 'elder' && !spec.male);
      const surname = ownName ? (surnames[rng.pickCumulative(cumSurname)]?.[0] ?? '李') : familyName;
      const given = spec.male ? MALE_GIVEN : FEMALE_GIVEN;
      const name = surname + rng.pick(given) + (rng.chance(0.75) ? rng.pick(given) : '');
      const start = arrival >= 0 ? Math.max(arrival, id.birth) : id.birth;
      let end = Math.max(start, hhEnd);
      let registeredOn = -1;
      if (registered) {
        if (floating) registeredOn = Math.min(asOf, Math.max(hhRegistered, id.birth + rng.int(31)));
        else registeredOn = Math.min(asOf, arrival >= 0 ? Math.max(arrival, id.birth + rng.int(31)) : id.birth + rng.int(31));
        if (fate === 'inactive') registeredOn = Math.min(registeredOn, plan.wStart);
      }
      let deregisteredOn = -1;
      if (registered && fate === 'left') deregisteredOn = Math.min(asOf, Math.max(registeredOn, hhEnd + rng.int(31)));
      let died = false;
      let plantedDeath = false;
      // Deaths: properly deregistered ones (locals), and planted ones the registry has missed.
      if (registered && fate === 'normal' && !newArrival) {
        const a = spec.age;
        const pPlanted = a >= 80 ? 0.06 : a >= 70 ? 0.025 : a >= 60 ? 0.008 : 0.0008;
        const pProper = floating ? 0 : a >= 80 ? 0.07 : a >= 70 ? 0.025 : a >= 60 ? 0.01 : 0;
        const v = rng.float();
        if (v < pPlanted) {
          died = true; plantedDeath = true;
          end = Math.max(start + 1, asOf - rng.between(15, 720));
          if (end > asOf) { died = false; plantedDeath = false; end = hhEnd; }
        } else if (v < pPlanted + pProper) {
          const death = asOf - rng.between(40, 3 * YEAR);
          if (death > start + 1) {
            died = true; end = death;
            deregisteredOn = Math.min(asOf, death + rng.between(10, 60));
          }
        }
      }
      const facts = emptyFacts(id.idNumber, id.birth);
      built.push({
        index, role: spec.role, age: spec.age, male: spec.male, birth: id.birth, idNumber: id.idNumber, name,
        start, end, registeredOn, deregisteredOn, died, plantedDeath, visits: 0, faceReference: null, facts,
      });
    }
    // The mother of the youngest children (for births and delivered pregnancies).
    let mother: Member | undefined;
    for (const m of built) {
      if ((m.role === 'adult' || m.role === 'spouse') && !m.male && m.age >= 18) { mother = m; break; }
    }
    const householdId = first + 1;
    const regCommunity = plan.geo.gridCommunity[regGrid] ?? 0;
    const resCommunity = plan.geo.gridCommunity[resGrid] ?? 0;
    const resDistrict = plan.geo.gridDistrict[resGrid] ?? 0;
    const regGeo = this.geoText(regGrid);
    const resGeo = this.geoText(resGrid);
    const type = floating ? 'floating' : 'local';

    // registry.household
    if (registered) {
      let created = Infinity;
      for (const m of built) if (m.registeredOn < created) created = m.registeredOn;
      this.out.add(T.household, `${householdId}\t${type}\t${regAddress}\t${regGeo}\t${formatDay(created)}`);
    }

    let householdPart: string | undefined;
    for (const m of built) {
      const f = m.facts;
      const sex = m.male ? 'M' : 'F';
      const normal = fate === 'normal' && !m.died;
      // registry.person and reference_photo
      if (registered) {
        const status = m.deregisteredOn >= 0 ? 'deregistered' : 'active';
        const phone = m.age < 12 || rng.chance(0.05) ? N : this.phone();
        // household_id … address, the same for every member: one flat piece (fewer pieces per row to join).
        householdPart ??= flat(`\t${householdId}\t${type}\t${floating ? plan.regionCodes[origin] ?? '' : plan.geo.districts[regDistrict]?.code ?? ''}\t${regGeo}\t${regAddress}\t`);
        this.out.add(T.person, `${m.index + 1}\t${m.idNumber}\t${m.name}\t${sex}\t${formatDay(m.birth)}\t${phone}${householdPart}${formatDay(m.registeredOn)}\t${status}\t${m.deregisteredOn >= 0 ? formatDay(m.deregisteredOn) : N}`);
        f.registry = {
          active: status === 'active', floating, sex: m.male ? 0 : 1, district: regDistrict, community: regCommunity, grid: regGrid, registeredOn: m.registeredOn,
        };
        if (m.age >= 16) {
          const b16 = addYears(m.birth, 16);
          const captured = Math.max(b16, Math.min(m.end, asOf - rng.int(10 * YEAR)));
          if (rng.chance(0.98)) {
            // the ID-card photo's synthetic template (face-synth.ts; its own random stream)
            m.faceReference = referenceTemplate(plan, m.index);
            f.faceReference = m.faceReference;
            this.out.add(T.referencePhoto, `${m.idNumber}\tref/${m.index + 1}.jpg\t${formatDay(captured)}\t${SYNTHETIC_MODEL_ID}\t${byteaCopyText(m.faceReference)}`);
          } else {
            this.out.add(T.referencePhoto, `${m.idNumber}\t${N}\t${formatDay(captured)}\t${N}\t${N}`);
          }
        }
      }
      this.social(m, floating, registered, normal, resDistrict);
      this.health(m, built, mother, normal, resCommunity, resDistrict, registered, resGeo);
      if (!floating) this.civil(m, members.length === 1, normal || m.plantedDeath, registered, regCommunity, regGeo, resDistrict);
      else if (m.died) this.deathRow(m, resDistrict);
      else this.floatingDisability(m, resCommunity, resGeo);
    }

    // housing.tenancy: adults (16+) of renting households; an earlier tenancy for some floating ones.
    if (home.house >= 0) this.tenancies(built, home, floating, fate, resDistrict);

    // grid.visit: household visits; each present member is recorded with some chance.
    this.visits(built, home, floating, separated, newArrival, arrival, hhStart, hhEnd, resGrid, resDistrict, resGeo);

    // grid.incident at a (non-rental) home, now and then.
    if (home.house < 0 && rng.chance(0.012)) {
      const day = Math.max(hhStart, asOf - rng.int(3 * YEAR));
      const cat = rng.pick(HOME_INCIDENTS);
      this.out.add(T.incident, `${2 * (householdId * 4) + 1}\t${home.key}\t${resGeo}\t${formatDay(day)}\t${cat}`);
    }

    for (const m of built) addPerson(this.truth, plan, m.facts);
    return built.length;
  }

  private geoText(grid: number): string {
    return this.plan.gridGeoText[grid] ?? '';
  }

  private home(grid: number, renting: boolean): Home {
    const { plan, rng } = this;
    if (renting) {
      const count = (plan.houseStart[grid + 1] ?? 0) - (plan.houseStart[grid] ?? 0);
      const k = rng.int(count);
      const h = houseAddress(plan, grid, k);
      return { grid, address: flat(h.address), key: flat(h.key), house: (plan.houseStart[grid] ?? 0) + k };
    }
    const geo = plan.geo;
    const community = geo.communities[geo.gridCommunity[grid] ?? 0];
    const street = community ? geo.streets[community.street] : undefined;
    const district = community ? geo.districts[community.district] : undefined;
    const building = rng.between(1, 400);
    const room = rng.between(1, 30) * 100 + rng.between(1, 6);
    const road = community?.roads[building % (community.roads.length || 1)] ?? '';
    const address = community && community.kind !== 'community'
      ? `广州市${district?.zh ?? ''}${street?.zh ?? ''}${road}${building}号${room}房`
      : `广州市${district?.zh ?? ''}${street?.zh ?? ''}${road}${building}号${room}房`;
    const key = `${geo.gridCodes[grid] ?? ''}-B${String(building).padStart(4, '0')}-${String(room).padStart(4, '0')}`;
    return { grid, address: flat(address), key: flat(key), house: -1 };
  }

  private phone(): string {
    const rng = this.rng;
    return rng.pick(PHONE_PREFIXES) + String(rng.int(100_000_000)).padStart(8, '0');
  }

  // ───────────────────────────── members by template ─────────────────────────────

  private localMembers(kind: LocalTemplate): MemberSpec[] {
    const rng = this.rng;
    switch (kind) {
      case 'elder_alone':
        return [{ role: 'elder', age: capAge(65 + rng.exponential(9), 100), male: rng.chance(0.35) }];
      case 'elder_couple': {
        const h = capAge(60 + rng.exponential(9), 100);
        return [{ role: 'elder', age: h, male: true }, { role: 'elder', age: Math.max(56, h - rng.between(0, 5)), male: false }];
      }
      case 'single':
        return [{ role: 'adult', age: capAge(20 + rng.exponential(12), 59), male: rng.chance(0.55) }];
      case 'couple': {
        const h = capAge(24 + rng.float() * 42, 100);
        return [{ role: 'adult', age: h, male: true }, { role: 'spouse', age: Math.max(22, h - rng.between(0, 4)), male: false }];
      }
      case 'nuclear': {
        const h = capAge(30 + rng.float() * 30, 100);
        const w = Math.max(23, h - rng.between(0, 4));
        const out: MemberSpec[] = [{ role: 'adult', age: h, male: true }, { role: 'spouse', age: w, male: false }];
        this.children(out, w, rng.chance(0.7) ? 1 : 2);
        return out;
      }
      case 'three_gen': {
        const g = capAge(58 + rng.exponential(10), 100);
        const son = Math.max(25, g - rng.between(24, 36));
        const w = Math.max(23, son - rng.between(0, 4));
        const out: MemberSpec[] = [{ role: 'adult', age: son, male: true }, { role: 'spouse', age: w, male: false }];
        this.children(out, w, rng.chance(0.7) ? 1 : 2);
        const elderMale = rng.chance(0.5);
        out.push({ role: 'elder', age: g, male: elderMale });
        if (rng.chance(0.5)) out.push({ role: 'elder', age: Math.max(56, g - rng.between(0, 5)), male: !elderMale });
        return out;
      }
      case 'single_parent': {
        const p = capAge(26 + rng.float() * 29, 100);
        const out: MemberSpec[] = [{ role: 'adult', age: p, male: rng.chance(0.3) }];
        this.children(out, p, 1);
        return out;
      }
    }
  }

  /** Children of a mother aged `motherAge`: born when she was 22–40 (or younger children if she is young). */
  private children(out: MemberSpec[], motherAge: number, n: number): void {
    const rng = this.rng;
    for (let i = 0; i < n; i++) {
      const age = motherAge - rng.between(22, 40);
      out.push({ role: 'child', age: age >= 0 ? age : rng.between(0, Math.max(0, motherAge - 20)), male: rng.chance(0.52) });
    }
  }

  private floatingMembers(kind: FloatingTemplate): MemberSpec[] {
    const rng = this.rng;
    switch (kind) {
      case 'worker':
        return [{ role: 'adult', age: capAge(18 + rng.exponential(9), 60), male: rng.chance(0.56) }];
      case 'couple': {
        const h = capAge(20 + rng.exponential(10), 58);
        return [{ role: 'adult', age: h, male: true }, { role: 'spouse', age: Math.max(18, h - rng.between(0, 4)), male: false }];
      }
      case 'family': {
        const h = capAge(25 + rng.exponential(8), 55);
        const w = Math.max(21, h - rng.between(0, 4));
        const out: MemberSpec[] = [{ role: 'adult', age: h, male: true }, { role: 'spouse', age: w, male: false }];
        const n = rng.chance(0.7) ? 1 : 2;
        for (let i = 0; i < n; i++) out.push({ role: 'child', age: rng.between(0, Math.min(15, w - 20)), male: rng.chance(0.52) });
        if (rng.chance(0.15)) out.push({ role: 'elder', age: rng.between(Math.max(50, h + 20), Math.max(52, h + 32)), male: rng.chance(0.3) });
        return out;
      }
      case 'with_parent': {
        const a = rng.between(25, 45);
        return [{ role: 'adult', age: a, male: rng.chance(0.5) }, { role: 'elder', age: Math.min(85, a + rng.between(22, 32)), male: rng.chance(0.4) }];
      }
      case 'shared': {
        const n = rng.between(2, 4);
        const male = rng.chance(0.6);
        const out: MemberSpec[] = [];
        for (let i = 0; i < n; i++) out.push({ role: i === 0 ? 'adult' : 'mate', age: rng.between(18, 35), male });
        return out;
      }
    }
  }

  // ───────────────────────────── social ─────────────────────────────

  private social(m: Member, floating: boolean, registered: boolean, normal: boolean, resDistrict: number): void {
    const { plan, rng } = this;
    const asOf = plan.asOf;
    const f = m.facts;
    // Employment: working ages (men 18–60, women 18–55).
    const ageAtEnd = m.age - Math.floor((asOf - m.end) / YEAR);
    const retire = m.male ? 60 : 55;
    const employedP = !registered ? 0.9 : floating ? 0.86 : 0.68;
    let firstStart = -1;
    let openJob = false;
    let lastEnd = -1;
    if (ageAtEnd >= 18 && ageAtEnd <= retire && rng.chance(ageAtEnd <= 22 ? employedP * 0.4 : employedP)) {
      const earliest = Math.max(m.start, addYears(m.birth, 18));
      if (earliest <= m.end) {
        let start: number;
        if (m.start >= plan.qStart && m.start > earliest - 1) start = Math.min(m.end, m.start + rng.int(21));
        else start = Math.max(earliest, m.end - Math.floor(rng.exponential(3 * YEAR)));
        let end = NO_DATE;
        if (!normal || m.plantedDeath) end = Math.max(start, m.end - rng.int(31));
        else if (rng.chance(0.1) && asOf - start > 60) end = start + rng.between(30, asOf - start);
        const jobs: { start: number; end: number }[] = [];
        if (start - earliest > 150 && rng.chance(0.35)) {
          const ps = earliest + rng.int(start - earliest - 120);
          const pe = ps + rng.between(30, Math.max(30, start - ps - 1));
          if (pe < start) jobs.push({ start: ps, end: pe });
        }
        jobs.push({ start, end });
        for (let j = 0; j < jobs.length; j++) {
          const job = jobs[j];
          if (!job) continue;
          const id = (m.index + 1) * 4 + j;
          const district = floating ? (rng.chance(0.7) ? resDistrict : rng.pickCumulative(plan.cumDistrict)) : (rng.chance(0.55) ? resDistrict : rng.pickCumulative(plan.cumDistrict));
          const grid = rng.pickCumulative(plan.cumGrid, plan.geo.districtGridFrom[district] ?? 0, plan.geo.districtGridTo[district] ?? 0);
          const industry = INDUSTRIES_FLOATING[rng.pickCumulative(floating ? CUM_INDUSTRY_FLOATING : CUM_INDUSTRY_LOCAL)] ?? 'services';
          const wage = Math.max(2300, Math.min(100_000, Math.round(Math.exp(Math.log(floating ? 6200 : 9000) + 0.45 * rng.normal()) / 10) * 10));
          this.out.add(T.employment, `${id}\t${m.idNumber}\t${industry}\t${this.geoText(grid)}\t${formatDay(job.start)}\t${job.end === NO_DATE ? N : formatDay(job.end)}\t${wage}`);
          f.employment.push({ id, start: job.start, end: job.end, district });
        }
        firstStart = jobs[0]?.start ?? start;
        openJob = end === NO_DATE;
        lastEnd = end;
      }
    }
    // Insurance: medical for (nearly) everyone; pension and unemployment for employees.
    if (m.end < m.start) return;
    if (registered || rng.chance(0.7)) {
      let x = m.start < DAY_2001 ? DAY_2001 + rng.int(2500) : m.start + rng.int(61);
      x = Math.min(x, m.end, asOf);
      const first = monthStart(x);
      let last = normal ? this.recentMonth() : monthStart(m.end - rng.int(61));
      if (last < first) last = first;
      const base = Math.max(0, Math.min(40_000, Math.round((floating ? 4600 : 6000) * Math.exp(0.3 * rng.normal()))));
      this.out.add(T.insurance, `${m.idNumber}\tmedical\t${base}\t${formatDay(first)}\t${formatDay(last)}`);
      f.insurance.push({ first, last });
      if (firstStart >= 0) {
        const pFirst = monthStart(firstStart);
        let pLast = openJob ? last : monthStart(lastEnd);
        if (pLast < pFirst) pLast = pFirst;
        const pbase = Math.max(0, Math.min(40_000, Math.round((floating ? 5200 : 8000) * Math.exp(0.35 * rng.normal()))));
        this.out.add(T.insurance, `${m.idNumber}\tpension\t${pbase}\t${formatDay(pFirst)}\t${formatDay(pLast)}`);
        f.insurance.push({ first: pFirst, last: pLast });
        if (rng.chance(0.8)) {
          this.out.add(T.insurance, `${m.idNumber}\tunemployment\t${pbase}\t${formatDay(pFirst)}\t${formatDay(pLast)}`);
          f.insurance.push({ first: pFirst, last: pLast });
        }
      }
    }
  }

  // ───────────────────────────── health ─────────────────────────────

  private health(m: Member, all: Member[], mother: Member | undefined, normal: boolean, resCommunity: number, resDistrict: number, registered: boolean, resGeo: string): void {
    const { plan, rng } = this;
    const asOf = plan.asOf;
    const f = m.facts;
    if (m.end < m.start) return;
    // Chronic conditions, by age.
    const band = m.age < 35 ? 0 : m.age < 45 ? 1 : m.age < 60 ? 2 : m.age < 70 ? 3 : 4;
    const factor = registered ? 1 : 0.5;
    let j = 0;
    for (const [condition, prevalence] of CHRONIC) {
      if (m.age < 15 || !rng.chance((prevalence[band] ?? 0) * factor)) continue;
      const earliest = Math.max(m.start, addYears(m.birth, 18));
      const latestDiag = m.end - 30;
      if (latestDiag < earliest) continue;
      const diagnosed = Math.max(earliest, latestDiag - Math.floor(rng.exponential(6 * YEAR)));
      let last: number;
      if (normal && !m.plantedDeath && rng.chance(0.9)) last = Math.max(diagnosed, asOf - rng.int(121));
      else if (normal && !m.plantedDeath) last = Math.max(diagnosed, asOf - rng.int(3 * YEAR));
      else last = Math.max(diagnosed, m.end - rng.int(201));
      if (last > m.end) last = m.end;
      const id = (m.index + 1) * 8 + j++;
      this.out.add(T.chronic, `${id}\t${m.idNumber}\t${condition}\t${formatDay(diagnosed)}\t${formatDay(last)}\t${resGeo}`);
      f.chronic.push({ condition, lastVisit: last, community: resCommunity });
    }
    if (m.male) return;
    // Pregnancies: ongoing, delivered (mother of a child under 2 in the household), ended.
    if (normal && !m.plantedDeath && m.age >= 20 && m.age <= 45) {
      const p = m.age < 25 ? 0.04 : m.age < 30 ? 0.07 : m.age < 35 ? 0.065 : m.age < 40 ? 0.035 : 0.01;
      if (rng.chance(p)) {
        const conception = asOf - rng.between(30, 265);
        const registeredOn = Math.max(m.start, Math.min(asOf, conception + rng.between(35, 90)));
        this.pregnancy(m, registeredOn, conception + 280, 'ongoing', resGeo, resCommunity);
      } else if (m.age <= 40 && rng.chance(0.004)) {
        const registeredOn = asOf - rng.between(60, 700);
        if (registeredOn >= m.start) this.pregnancy(m, registeredOn, registeredOn + rng.between(60, 200), 'ended', resGeo, resCommunity);
      }
    }
    if (mother === m) {
      for (const c of all) {
        if (c.role !== 'child' || c.age > 1) continue;
        const registeredOn = c.birth - rng.between(180, 230);
        if (registeredOn >= m.start && registeredOn <= m.end) this.pregnancy(m, registeredOn, c.birth + rng.between(-14, 14), 'delivered', resGeo, resCommunity);
        this.out.add(T.birth, `${c.index + 1}\t${m.idNumber}\t${formatDay(c.birth)}\t${c.male ? 'M' : 'F'}\t${plan.geo.districts[resDistrict]?.code ?? ''}`);
      }
    }
  }

  // ───────────────────────────── civil ─────────────────────────────

  private civil(m: Member, livesAlone: boolean, eligible: boolean, registered: boolean, regCommunity: number, regGeo: string, resDistrict: number): void {
    const { plan, rng } = this;
    const asOf = plan.asOf;
    const f = m.facts;
    if (m.died) this.deathRow(m, resDistrict);
    if (!registered || m.end < m.start) return;
    let childless = false;
    if (eligible && livesAlone && m.age >= 65) {
      childless = rng.chance(0.2);
      const since = Math.min(asOf, Math.max(addYears(m.birth, 65), m.start, asOf - rng.int(10 * YEAR)));
      this.out.add(T.elderlyAlone, `${m.idNumber}\t${childless ? 'childless' : 'alone'}\t${formatDay(since)}\t${regGeo}`);
      f.elderlyAlone = { childless, community: regCommunity };
    }
    let grade = 0;
    const pDis = m.age < 18 ? 0.008 : m.age < 60 ? 0.018 : m.age < 80 ? 0.05 : 0.1;
    if (rng.chance(pDis)) {
      grade = 1 + rng.pickCumulative(CUM_GRADE);
      const type = DISABILITY_TYPES[rng.pickCumulative(CUM_DISABILITY_TYPE)] ?? 'physical';
      const certified = Math.max(m.start, DAY_1995, m.end - rng.int(20 * YEAR));
      this.out.add(T.disability, `${m.idNumber}\t${type}\t${grade}\t${formatDay(Math.min(certified, m.end))}\t${regGeo}`);
      f.disability = { severe: grade <= 2, community: regCommunity };
    }
    if (!eligible) return;
    // Subsidies (hukou-based), possibly still paid to a planted dead person.
    const dibaoP = 0.004 * (grade > 0 ? 4 : 1) * (livesAlone && m.age >= 65 ? 3 : 1);
    const onDibao = m.age >= 18 && rng.chance(dibaoP);
    if (onDibao) this.subsidy(m, 'dibao', rng.between(1200, 1400), Math.max(m.start, addYears(m.birth, 18)), true, regGeo, regCommunity);
    const tekunP = childless ? 0.5 : grade > 0 && grade <= 2 && livesAlone ? 0.2 : 0.0002;
    if (!onDibao && rng.chance(tekunP)) this.subsidy(m, 'tekun', rng.between(1900, 2300), Math.max(m.start, addYears(m.birth, 16)), true, regGeo, regCommunity);
    if (m.age >= 80 && rng.chance(0.95)) {
      this.subsidy(m, 'old_age', m.age >= 100 ? 500 : m.age >= 90 ? 300 : 100, Math.min(asOf, Math.max(addYears(m.birth, 80), DAY_2012)), false, regGeo, regCommunity);
    }
    if (grade > 0 && grade <= 2 && rng.chance(onDibao ? 1 : 0.7)) this.subsidy(m, 'disability_care', rng.between(150, 300), Math.max(m.start, DAY_2012), true, regGeo, regCommunity);
  }

  private floatingDisability(m: Member, resCommunity: number, resGeo: string): void {
    const rng = this.rng;
    if (m.end < m.start) return;
    const pDis = (m.age < 18 ? 0.008 : m.age < 60 ? 0.018 : 0.05) * 0.3;
    if (!rng.chance(pDis)) return;
    const grade = 1 + rng.pickCumulative(CUM_GRADE);
    const type = DISABILITY_TYPES[rng.pickCumulative(CUM_DISABILITY_TYPE)] ?? 'physical';
    const certified = Math.min(m.end, Math.max(m.start, DAY_1995, m.end - rng.int(10 * YEAR)));
    this.out.add(T.disability, `${m.idNumber}\t${type}\t${grade}\t${formatDay(certified)}\t${resGeo}`);
    m.facts.disability = { severe: grade <= 2, community: resCommunity };
  }

  private deathRow(m: Member, district: number): void {
    this.out.add(T.death, `${m.idNumber}\t${formatDay(m.end)}\t${this.plan.geo.districts[district]?.code ?? ''}`);
    m.facts.death = true;
  }

  // ───────────────────────────── housing ─────────────────────────────

  private tenancies(all: Member[], home: Home, floating: boolean, fate: Fate, resDistrict: number): void {
    const { plan, rng } = this;
    const asOf = plan.asOf;
    let hhStart = Infinity;
    let adultsEnd = -Infinity;
    for (const m of all) {
      if (m.start < hhStart) hhStart = m.start;
      if (m.end > adultsEnd) adultsEnd = m.end;
    }
    // Move-in date to the current house; floating households may have rented elsewhere before.
    let moveIn = floating ? hhStart : Math.max(hhStart, asOf - rng.int(5 * YEAR));
    let previous: { grid: number; k: number; start: number; end: number } | undefined;
    if (floating && adultsEnd - hhStart > 120 && rng.chance(0.4)) {
      moveIn = hhStart + 60 + rng.int(adultsEnd - hhStart - 60);
      const from = plan.geo.districtGridFrom[resDistrict] ?? 0;
      const to = plan.geo.districtGridTo[resDistrict] ?? 0;
      const grid = rng.pickCumulative(plan.cumGrid, from, to);
      const count = (plan.houseStart[grid + 1] ?? 0) - (plan.houseStart[grid] ?? 0);
      previous = { grid, k: rng.int(count), start: hhStart, end: moveIn };
    }
    const houseDistrict = resDistrict;
    for (const m of all) {
      if (m.age < 16 || m.end < m.start) continue;
      let j = 0;
      if (previous) {
        const s = Math.max(previous.start, m.start);
        const e = Math.min(previous.end, m.end);
        if (s < e) this.tenancy(m, j++, (plan.houseStart[previous.grid] ?? 0) + previous.k, s, e, plan.geo.gridDistrict[previous.grid] ?? 0);
      }
      const s = Math.max(moveIn, m.start);
      if (s > m.end) continue;
      const open = fate === 'normal' && !m.died;
      this.tenancy(m, j, home.house, s, open ? NO_DATE : Math.max(s, m.end), houseDistrict);
    }
  }

  // ───────────────────────────── row helpers ─────────────────────────────

  /** A latest-paid month in the last quarter (80 % this month, 15 % last month, 5 % two or three months ago). */
  private recentMonth(): number {
    const v = this.rng.float();
    return monthStart(addMonths(this.plan.asOf, v < 0.8 ? 0 : v < 0.95 ? -1 : -this.rng.between(2, 3)));
  }

  private pregnancy(m: Member, registeredOn: number, expected: number, status: 'ongoing' | 'delivered' | 'ended', resGeo: string, resCommunity: number): void {
    const id = (m.index + 1) * 4 + m.facts.pregnancy.length;
    this.out.add(T.pregnancy, `${id}\t${m.idNumber}\t${formatDay(registeredOn)}\t${formatDay(expected)}\t${status}\t${resGeo}`);
    m.facts.pregnancy.push({ registeredOn, ongoing: status === 'ongoing', community: resCommunity });
  }

  /** A subsidy row; `spell` draws a start in the last six years and maybe an end (10 % ended, 5 % fixed term). */
  private subsidy(m: Member, type: 'dibao' | 'tekun' | 'old_age' | 'disability_care', amount: number, earliest: number, spell: boolean, regGeo: string, regCommunity: number): void {
    const { rng, plan } = this;
    const asOf = plan.asOf;
    let since = earliest;
    let until = NO_DATE;
    if (spell) {
      since = Math.min(asOf, Math.max(earliest, asOf - rng.int(6 * YEAR)));
      const v = rng.float();
      if (v < 0.1 && asOf - since > 100) until = since + rng.between(90, asOf - since);
      else if (v < 0.15) until = asOf + rng.between(1, 365);
    }
    const id = (m.index + 1) * 4 + m.facts.subsidies.length;
    this.out.add(T.subsidy, `${id}\t${m.idNumber}\t${type}\t${amount}\t${formatDay(since)}\t${until === NO_DATE ? N : formatDay(until)}\t${regGeo}`);
    m.facts.subsidies.push({ type, since, until, community: regCommunity });
  }

  private tenancy(m: Member, j: number, house: number, start: number, end: number, district: number): void {
    const id = (m.index + 1) * 4 + j;
    this.out.add(T.tenancy, `${id}\t${house + 1}\t${m.idNumber}\t${formatDay(start)}\t${end === NO_DATE ? N : formatDay(end)}`);
    m.facts.tenancy.push({ id, start, end, houseDistrict: district });
  }

  // ───────────────────────────── grid ─────────────────────────────

  private visits(all: Member[], home: Home, floating: boolean, separated: boolean, newArrival: boolean, arrival: number, hhStart: number, hhEnd: number, resGrid: number, resDistrict: number, resGeo: string): void {
    const { plan, rng } = this;
    const asOf = plan.asOf;
    const uv = plan.geo.gridUrbanVillage[resGrid] === 1;
    const days: number[] = [];
    const from = Math.max(hhStart, asOf - 3 * YEAR);
    if (from <= hhEnd && rng.chance(uv || floating ? RATES.visitedBusy : separated ? RATES.visitedSeparated : RATES.visitedOther)) {
      const n = rng.between(1, uv || floating ? 4 : 3);
      for (let i = 0; i < n; i++) days.push(rng.between(from, hhEnd));
    }
    if (newArrival && rng.chance(0.6)) days.push(Math.min(asOf, arrival + rng.int(31)));
    if (days.length === 0) return;
    days.sort(byNumber);
    const gridCode = plan.geo.gridCodes[resGrid] ?? '';
    let elderly = false;
    for (const m of all) if (m.age >= 65) elderly = true;
    for (const day of days) {
      const purpose = newArrival && day - arrival <= 30 ? 'registration' : elderly && rng.chance(0.3) ? 'care' : PURPOSES[rng.pickCumulative(VISIT_PURPOSES)] ?? 'routine';
      // address_key … grid_code, visited_on, worker_id, purpose: the same for every member seen in this visit.
      const middle = flat(`\t${home.key}\t${resGeo}\t${formatDay(day)}\tGW${gridCode}-${rng.between(1, 3)}\t${purpose}\t`);
      const photoDir = photoDirectory(day);
      let first = true;
      for (const m of all) {
        if (day < m.start || day > m.end) continue;
        if (!first && !rng.chance(0.75)) continue;
        first = false;
        if (m.visits >= 8) continue;
        const id = (m.index + 1) * 8 + m.visits++;
        const photo = rng.chance(0.92) ? `${photoDir}${id}.jpg` : N;
        const capture = visitCapture(plan, id, m.index, photo !== N, m.faceReference);
        const face = capture.template ? `${SYNTHETIC_MODEL_ID}\t${byteaCopyText(capture.template)}\t${N}` : `${N}\t${N}\t${capture.unusable ?? N}`;
        this.out.add(T.visit, `${id}\t${m.idNumber}${middle}${photo}\t${face}`);
        m.facts.visits.push({ id, day, district: resDistrict, face: capture.template });
      }
    }
  }
}

/** 'grid/YYYY/MM/v' for a visit day: the start of its photo references. */
function photoDirectory(day: number): string {
  const d = formatDay(day);
  return flat(`grid/${d.slice(0, 4)}/${d.slice(5, 7)}/v`);
}

function byNumber(a: number, b: number): number {
  return a - b;
}
const VISIT_PURPOSES = cumulative([0.55, 0.15, 0.1, 0.2]);
const HOME_INCIDENTS = ['public_order', 'dispute', 'sanitation', 'fire_hazard', 'illegal_alteration'] as const;
const PHONE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '157', '158', '159', '176', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191', '199'] as const;
