/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluice-decap agent: per-VIP socket counts over HTTP (agent.c). */
#ifndef SLUICE_DECAP_AGENT_H
#define SLUICE_DECAP_AGENT_H

/* argv[0] is "agent"; returns the process exit code. */
int sl_agent_main(int argc, char **argv);

#endif /* SLUICE_DECAP_AGENT_H */
