/**
 * Adaptive admission across workers: every worker adds the first holds of admitted fans it saw to
 * its show's row; the worker that ticks the room reads the total and offsets admissions by it.
 */
export const roomArrivalsSchema = `
alter table waiting_rooms add column arrivals bigint not null default 0;
`;
