#ifndef SHMR_SETTINGS_H
#define SHMR_SETTINGS_H

#include "target.h"

/* This process's target, decided on its first use from the environment
   (settings.c) and kept for the life of the process and its forks. */
const struct shm_target *shm_target(void);

#endif
