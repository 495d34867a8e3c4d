/**
 * Decides whether a fan may place holds on a show right now. The waiting room implements it;
 * until a show's waiting room is enabled every fan is admitted.
 */
export interface AdmissionGate {
  /** Throws ApiError('admission_required') when the fan needs (another) admission token. */
  checkAdmitted(userId: string, showId: string, admissionToken: string | undefined): Promise<void>;
}

export const openAdmission: AdmissionGate = {
  async checkAdmitted() {},
};
