import type { ShowDefinition } from '../actors/show-definition.js';
import type { SqlExecutor } from './database.js';

/** A show's sellable inventory and policy, stored once when the organizer creates the show. */
export class ShowDefinitionStore {
  constructor(private readonly db: SqlExecutor) {}

  async save(definition: ShowDefinition): Promise<void> {
    await this.db.query(
      `insert into show_definitions (show_id, definition) values ($1, $2::jsonb)
       on conflict (show_id) do update set definition = excluded.definition`,
      [definition.showId, JSON.stringify(definition)],
    );
  }

  async load(showId: string): Promise<ShowDefinition | null> {
    const { rows } = await this.db.query<{ definition: ShowDefinition | string }>('select definition from show_definitions where show_id = $1', [showId]);
    const row = rows[0];
    if (row === undefined) return null;
    return typeof row.definition === 'string' ? (JSON.parse(row.definition) as ShowDefinition) : row.definition;
  }
}
