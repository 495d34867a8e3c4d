/** Every scenario by name (`--scenario`). */
import type { ScenarioName } from '../options.js';
import { browse } from './browse.js';
import { ga } from './ga.js';
import { hotSeats } from './hot-seats.js';
import { hotel } from './hotel.js';
import { onsale } from './onsale.js';
import type { Scenario } from './scenario.js';

export const scenarios: Record<ScenarioName, Scenario> = { onsale, 'hot-seats': hotSeats, browse, ga, hotel };
