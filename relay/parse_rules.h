/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse_rules.h - the rules of the relay's configuration that join
 * several keys: the 'finish' of the blocks of parse.c that have one.
 */
#ifndef AH_PARSE_RULES_H
#define AH_PARSE_RULES_H

#include "parse.h"
#include "parse_yaml.h"

void	rules_prefix(struct ctx *, const struct conf_pos *, void *);
void	rules_checks(struct ctx *, const struct conf_pos *, void *);
void	rules_drain(struct ctx *, const struct conf_pos *, void *);
void	rules_service(struct ctx *, const struct conf_pos *, void *);
void	rules_top(struct ctx *, const struct conf_pos *, void *);

#endif /* AH_PARSE_RULES_H */
