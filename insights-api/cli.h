/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator subcommands of the insights-api binary, sharing the daemon's
 * configuration (DI_POSTGRES_*, TOKEN_PEPPER, RETENTION_DAYS, ...):
 *
 *   insights-api migrate                         apply the schema migrations
 *   insights-api maintain                        create/drop daily partitions
 *   insights-api forget --client C --user U      delete one user's rows
 *   insights-api client add --client C [--email E] [--geography G]
 *   insights-api client rotate --client C [--window SECONDS]
 *   insights-api client revoke --client C [--token-id N]
 *   insights-api client list [--client C]
 *   insights-api monitor --since DATE [--until DATE] [--prom FILE]
 *                                                monitoring numbers (monitor.h)
 *   insights-api report --since DATE --out DIR   HTML + CSV report (report.h)
 *
 * Results go to stdout as one JSON object per line (a new token is printed
 * there once and never again), errors to stderr as one line. Exit status:
 * 0 done, 1 failed, 2 usage error.
 */
#ifndef INSIGHTS_CLI_H
#define INSIGHTS_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* True when argv[1] names a subcommand. */
bool cli_is_subcommand(const char *arg);

/* Run the subcommand in argv[1..]; returns the process exit status. */
int cli_main(int argc, char **argv);

/* The usage text above. */
void cli_usage(FILE *out);

#endif
