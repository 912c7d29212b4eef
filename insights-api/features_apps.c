/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The installed-app list, read through the apps mapping: how many lending,
 * gambling, finance ... apps a user has and how recently they installed
 * them. A burst of lending-app installs in the last 30 days is one of the
 * most used signals in Indian digital lending. The client's own apps
 * (client_exclusions.json) are left out: installing the lender's app to
 * apply must not count against the application.
 */
#include <string.h>

#include "insights-api/features_impl.h"

static const char *const cats[] = {"lending",       "gambling", "finance",   "social",
                                   "communication", "shopping", "food",      "travel",
                                   "entertainment", "games",    "education", "health",
                                   "productivity",  "news",     "jobs",      "real_estate"};
#define NCAT (sizeof(cats) / sizeof(cats[0]))
static const char *const subs[] = {"personal_loan",  "bnpl",        "p2p_lending",  "credit_score",
                                   "fantasy_sports", "rummy_poker", "betting",      "casino",
                                   "lottery_colour", "banking",     "upi_payments", "investment",
                                   "insurance",      "credit_card", "crypto",       "dating"};
#define NSUB (sizeof(subs) / sizeof(subs[0]))

static int find(const char *const *list, size_t n, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (int)i;
    return -1;
}

struct apps_acc {
    double cat[NCAT][3]; /* all, c30, c90 */
    double sub[NSUB][2]; /* all, c30 */
    double total, user, system, mapped, inst7, inst30, inst90, upd30;
    int64_t first_install, last_install, last_lending;
};

static void add_app(const struct fe_ctx *ctx, struct apps_acc *a, const struct app_fact *p)
{
    int64_t age = p->install_ts > 0 ? ctx->now - p->install_ts : -1;
    bool in7 = age >= 0 && age < 7 * 86400, in30 = age >= 0 && age < 30 * 86400;
    bool in90 = age >= 0 && age < 90 * 86400;
    const struct maps_app *m = maps_app_lookup(ctx->maps, p->package_name);
    a->total++;
    a->system += p->is_system;
    a->user += !p->is_system;
    a->inst7 += in7;
    a->inst30 += in30;
    a->inst90 += in90;
    a->upd30 +=
        p->update_ts > 0 && ctx->now - p->update_ts >= 0 && ctx->now - p->update_ts < 30 * 86400;
    if (p->install_ts > 0 && p->install_ts <= ctx->now && !p->is_system) {
        if (!a->first_install || p->install_ts < a->first_install)
            a->first_install = p->install_ts;
        if (p->install_ts > a->last_install)
            a->last_install = p->install_ts;
    }
    if (!m)
        return;
    a->mapped++;
    int c = find(cats, NCAT, m->category), s = find(subs, NSUB, m->sub_category);
    if (c >= 0) {
        a->cat[c][0]++;
        a->cat[c][1] += in30;
        a->cat[c][2] += in90;
    }
    if (s >= 0) {
        a->sub[s][0]++;
        a->sub[s][1] += in30;
    }
    if (c == 0 && p->install_ts > a->last_lending && p->install_ts <= ctx->now)
        a->last_lending = p->install_ts;
}

static void run_apps(struct fe_ctx *ctx, struct fe_out *o)
{
    static const struct apps_acc zero;
    struct apps_acc a = zero;
    size_t n = ctx->u->apps_state == SOURCE_OK ? ctx->u->apps_count : 0;
    bool own = maps_client_known(ctx->maps, ctx->u->client_id);
    for (size_t i = 0; i < n; i++)
        if (!own ||
            !maps_client_has(ctx->maps, true, ctx->u->client_id, ctx->u->apps[i].package_name))
            add_app(ctx, &a, &ctx->u->apps[i]);
    fe_num(o, a.total, "apps_count_total");
    fe_num(o, a.user, "apps_count_user");
    fe_num(o, a.system, "apps_count_system");
    fe_num(o, a.mapped, "apps_mapped_count");
    fe_num(o, a.inst7, "apps_installed_c7");
    fe_num(o, a.inst30, "apps_installed_c30");
    fe_num(o, a.inst90, "apps_installed_c90");
    fe_num(o, a.upd30, "apps_updated_c30");
    for (size_t c = 0; c < NCAT; c++) {
        fe_num(o, a.cat[c][0], "apps_%s_count", cats[c]);
        fe_num(o, a.cat[c][1], "apps_%s_installed_c30", cats[c]);
        fe_num(o, a.cat[c][2], "apps_%s_installed_c90", cats[c]);
    }
    for (size_t s = 0; s < NSUB; s++) {
        fe_num(o, a.sub[s][0], "apps_sub_%s_count", subs[s]);
        fe_num(o, a.sub[s][1], "apps_sub_%s_installed_c30", subs[s]);
    }
    fe_num(o, fe_ratio(a.cat[0][0], a.user), "apps_lending_share");
    fe_num(o, fe_ratio(a.cat[1][0], a.user), "apps_gambling_share");
    fe_num(o, fe_ratio(a.mapped, a.total), "apps_mapped_share");
    fe_num(o, fe_days_since(ctx, a.last_lending), "days_since_last_lending_app_install");
    fe_num(o, fe_days_since(ctx, a.first_install), "days_since_first_app_install");
    fe_num(o, fe_days_since(ctx, a.last_install), "days_since_last_app_install");
}

const struct fe_family fe_family_apps = {"apps", FEATURES_GROUP_APPS, false, run_apps};
