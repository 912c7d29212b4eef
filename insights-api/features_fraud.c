/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fraud signals from the phone itself: apps that fake location, root the
 * device, clone apps, hand control to someone else or forge SMS, and devices
 * that are emulators. fraud_flag is the documented rule a lender can audit:
 * true when any fake_gps, root, cloner, remote_access, data_editor or
 * emulator_tool app is installed or the device looks emulated; false only
 * when both the app list and the device were available and showed none of
 * these; null otherwise. VPN and automation apps are counted but do not set
 * the flag alone (too common among ordinary users).
 */
#include <string.h>

#include "insights-api/features_impl.h"

static const char *const cats[] = {"fake_gps",   "root",        "cloner",    "remote_access",
                                   "automation", "data_editor", "vpn_proxy", "emulator_tool"};
#define NCAT (sizeof(cats) / sizeof(cats[0]))
static const bool flags[NCAT] = {true, true, true, true, false, true, false, true};

/* Installed fraud-relevant apps: per category, and how many arrived lately. */
struct fraud_counts {
    double n[NCAT], n30[NCAT];
    double total, total30, total7;
};

static void count_apps(const struct fe_ctx *ctx, struct fraud_counts *c)
{
    const struct user_data *u = ctx->u;
    size_t na = u->apps_state == SOURCE_OK ? u->apps_count : 0;

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < na; i++) {
        const struct app_fact *p = &u->apps[i];
        const char *cat = maps_fraud_app_lookup(ctx->maps, p->package_name);
        if (!cat || maps_client_has(ctx->maps, true, u->client_id, p->package_name))
            continue;
        int64_t age = p->install_ts > 0 ? ctx->now - p->install_ts : -1;
        bool in30 = age >= 0 && age < 30 * 86400, in7 = age >= 0 && age < 7 * 86400;
        for (size_t k = 0; k < NCAT; k++)
            if (strcmp(cat, cats[k]) == 0) {
                c->n[k]++;
                c->n30[k] += in30;
            }
        c->total++;
        c->total30 += in30;
        c->total7 += in7;
    }
}

/* "fake_gps,root,emulated_device": the flagging categories present; false when none. */
static bool fraud_reasons(const struct fraud_counts *c, bool emulated_device, char *out, size_t cap)
{
    size_t len = 0;
    bool any = false;

    out[0] = '\0';
    for (size_t k = 0; k < NCAT; k++) {
        if (!flags[k] || c->n[k] == 0)
            continue;
        any = true;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", cats[k]);
        if (len >= cap)
            len = cap - 1;
    }
    if (emulated_device) {
        any = true;
        snprintf(out + len, cap - len, "%semulated_device", len ? "," : "");
    }
    return any;
}

static void run_fraud(struct fe_ctx *ctx, struct fe_out *o)
{
    const struct user_data *u = ctx->u;
    bool apps_ok = u->apps_state == SOURCE_OK || u->apps_state == SOURCE_EMPTY;
    bool dev_ok = u->device_state == SOURCE_OK;
    struct fraud_counts c;

    count_apps(ctx, &c);
    double nan_if = apps_ok ? 0 : NAN;
    for (size_t k = 0; k < NCAT; k++) {
        fe_num(o, c.n[k] + nan_if, "fraud_apps_%s_count", cats[k]);
        fe_num(o, c.n30[k] + nan_if, "fraud_apps_%s_installed_c30", cats[k]);
    }
    fe_num(o, c.total + nan_if, "fraud_apps_count");
    fe_num(o, c.total30 + nan_if, "fraud_apps_installed_c30");
    fe_num(o, c.total7 + nan_if, "fraud_apps_installed_c7");

    bool emu_dev = dev_ok && maps_is_emulator(ctx->maps, u->device.brand, u->device.model,
                                              u->device.manufacturer);
    bool emulator = emu_dev || c.n[NCAT - 1] > 0;
    fe_bool(o, emulator ? 1 : (dev_ok && apps_ok ? 0 : NAN), "emulator_flag");
    fe_bool(o, c.n[1] > 0 ? 1 : (apps_ok ? 0 : NAN), "rooted_flag");
    fe_bool(o, c.n[0] > 0 ? 1 : (apps_ok ? 0 : NAN), "fake_gps_flag");

    char reasons[FEATURES_STRING_MAX + 1];
    bool any = fraud_reasons(&c, emu_dev, reasons, sizeof(reasons));
    fe_bool(o, any ? 1 : (apps_ok && dev_ok ? 0 : NAN), "fraud_flag");
    fe_str(o, any ? reasons : NULL, "fraud_reasons");
}

const struct fe_family fe_family_fraud = {"fraud", FEATURES_GROUP_FRAUD, false, run_fraud};
