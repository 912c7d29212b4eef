-- SPDX-License-Identifier: Apache-2.0
-- Daily partition helpers for api_insights_db (docs/database.md). The two functions keep
-- the names and signatures of Credeau's database guide (credeau.md §6.1) so operators who
-- know them can call them by hand; insights-api calls them from store_maintain() under an
-- advisory lock instead of pg_cron. Every create and drop is logged in
-- partition_operations_log (the guide names that table but gives no DDL: this is ours).

CREATE TABLE IF NOT EXISTS partition_operations_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name varchar(128) NOT NULL,
    partition_name varchar(128),
    operation_type varchar(32) NOT NULL,  -- create | drop | delete_rows
    status varchar(16) NOT NULL,          -- success | failed
    detail text,                          -- row counts or the SQLSTATE of a failure
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX IF NOT EXISTS partition_operations_log_created_at_idx
    ON partition_operations_log (created_at);

-- Creates <parent>_YYYY_MM_DD for partition_date .. partition_date + days_ahead (UTC days,
-- range [day, day + 1) on created_at); existing partitions are skipped. Rows that landed in
-- <parent>_default for a day (maintenance had not run) are moved into the new partition,
-- because PostgreSQL refuses a partition whose range the default partition already holds.
-- Returns the number of partitions created.
CREATE OR REPLACE FUNCTION public.create_daily_partition(parent_table text, partition_date date,
                                                         days_ahead int DEFAULT 0)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    d date;
    pname text;
    moved bigint;
    created int := 0;
BEGIN
    FOR i IN 0..greatest(days_ahead, 0) LOOP
        d := partition_date + i;
        pname := parent_table || '_' || to_char(d, 'YYYY_MM_DD');
        CONTINUE WHEN to_regclass(format('public.%I', pname)) IS NOT NULL;
        moved := 0;
        IF to_regclass(format('public.%I', parent_table || '_default')) IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM public.%I WHERE created_at >= %L AND created_at < %L',
                           parent_table || '_default', d, d + 1) INTO moved;
        END IF;
        IF moved = 0 THEN
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
                           pname, parent_table, d, d + 1);
        ELSE
            EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS)',
                           pname, parent_table);
            EXECUTE format('WITH m AS (DELETE FROM public.%I WHERE created_at >= %L AND created_at < %L'
                           ' RETURNING *) INSERT INTO public.%I SELECT * FROM m',
                           parent_table || '_default', d, d + 1, pname);
            EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                           parent_table, pname, d, d + 1);
        END IF;
        INSERT INTO partition_operations_log (table_name, partition_name, operation_type, status, detail)
        VALUES (parent_table, pname, 'create', 'success',
                CASE WHEN moved > 0 THEN moved || ' rows moved from the default partition' END);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the daily partitions of parent_table whose whole day is older than retention_days
-- (UTC). Returns the number dropped. Rows of the default partition are deleted by
-- store_maintain() itself.
CREATE OR REPLACE FUNCTION public.cleanup_old_partitions_for_table(parent_table text,
                                                                   retention_days int DEFAULT 90)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    r record;
    cutoff date := ((now() AT TIME ZONE 'UTC') - make_interval(days => retention_days))::date;
    dropped int := 0;
BEGIN
    FOR r IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = parent_table AND p.relnamespace = 'public'::regnamespace
        ORDER BY c.relname
    LOOP
        CONTINUE WHEN r.relname !~ ('^' || parent_table || '_[0-9]{4}_[0-9]{2}_[0-9]{2}$');
        CONTINUE WHEN to_date(right(r.relname, 10), 'YYYY_MM_DD') + 1 > cutoff;
        EXECUTE format('DROP TABLE public.%I', r.relname);
        INSERT INTO partition_operations_log (table_name, partition_name, operation_type, status)
        VALUES (parent_table, r.relname, 'drop', 'success');
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;
