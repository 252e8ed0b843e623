import { sql } from 'kysely';
import type { Database } from '../../sandbox/store/database.ts';

/**
 * A handful of realistic rows for the datasets the Postgres fuzz runs on: valid 18-character ID
 * numbers (one ending in X), two- and three-character names, births from 1930 to the snapshot
 * date, nullable columns both set and empty, wages from 0 to near the integer limit.
 */
export async function insertSampleRows(dbs: { registry: Database; social: Database; housing: Database }): Promise<void> {
  const persons: [number, string, string, string, string, string | null, string, string | null][] = [
    [1, '44010419300101001X', '张三', 'M', '1930-01-01', null, 'active', null],
    [2, '440104198002290022', '李四娘', 'F', '1980-02-29', '13800000000', 'active', null],
    [3, '440105200012310035', '王五', 'M', '2000-12-31', null, 'deregistered', '2020-05-01'],
    [4, '440106202606300048', '赵六', 'F', '2026-06-30', null, 'active', null],
    [5, '110101196507150051', '欧阳修', 'M', '1965-07-15', '13900000000', 'active', null],
  ];
  for (const [id, idn, name, sex, birth, phone, status, dereg] of persons) {
    await sql`INSERT INTO person (person_id, id_number, name, sex, birth_date, phone, household_id, household_type, native_region_code,
      district_code, street_code, community_code, grid_code, address, registered_on, status, deregistered_on)
      VALUES (${id}, ${idn}, ${name}, ${sex}, ${birth}, ${phone}, ${id}, ${id % 2 ? 'local' : 'floating'}, ${idn.slice(0, 6)},
        '440104', '440104001', '440104001001', '440104001001001', '某路 1 号', '2001-01-01', ${status}, ${dereg})`.execute(dbs.registry.kysely);
  }
  await sql`INSERT INTO lab_meta (key, value) VALUES ('as_of', '2026-06-30')`.execute(dbs.registry.kysely);
  const jobs: [number, string, string, string | null, number][] = [
    [1, '44010419300101001X', '1950-01-01', '1990-12-31', 0],
    [2, '440104198002290022', '2001-03-01', null, 8000],
    [3, '110101196507150051', '1985-06-01', null, 2_100_000_000],
  ];
  for (const [id, idn, start, end, wage] of jobs) {
    await sql`INSERT INTO employment (employment_id, id_number, industry, work_district_code, work_street_code, work_community_code, work_grid_code, start_date, end_date, monthly_wage)
      VALUES (${id}, ${idn}, 'manufacturing', '440104', '440104001', '440104001001', '440104001001001', ${start}, ${end}, ${wage})`.execute(dbs.social.kysely);
  }
  const houses: [number, boolean, number, number][] = [[1, true, 1, 12], [2, false, 6, 240], [3, true, 0, 0]];
  for (const [id, village, rooms, area] of houses) {
    await sql`INSERT INTO rental_house (house_id, address, address_key, owner_id_number, district_code, street_code, community_code, grid_code, urban_village, rooms, area_m2, registered_on)
      VALUES (${id}, '某村 2 号', ${`k${id}`}, '440104198002290022', '440104', '440104001', '440104001001', '440104001001001', ${village}, ${rooms}, ${area}, '2015-08-08')`.execute(dbs.housing.kysely);
  }
}
